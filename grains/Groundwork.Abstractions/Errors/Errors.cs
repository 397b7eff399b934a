namespace Groundwork;

/// <summary>The base of every error Groundwork raises on purpose. Catch this to tell ours from the runtime's.</summary>
[GenerateSerializer, Alias("gw.err")]
public abstract class GroundworkException : Exception
{
    /// <summary>For the serializer.</summary>
    protected GroundworkException()
    {
    }

    /// <summary>Creates the error with its explanation.</summary>
    protected GroundworkException(string message) : base(message)
    {
    }

    /// <summary>
    /// Always null: a Groundwork error is an answer to the caller, and the silo's frames and source paths are not
    /// the caller's business. The silo logs what it needs where it raises one.
    /// </summary>
    public override string? StackTrace => null;

    /// <summary>
    /// <paramref name="text"/> as it may be repeated back to a caller: at most <paramref name="limit"/> characters,
    /// with the full length named when cut, so an error never grows with its input.
    /// </summary>
    protected static string Echo(string? text, int limit = 128) =>
        text is null ? "" : text.Length <= limit ? text : $"{text[..limit]}... ({text.Length} characters)";

    /// <summary>
    /// The first Groundwork error among <paramref name="exception"/> and its causes, if any. Orleans wraps what grain
    /// storage throws (a storage outage, a state over the size limit) in its own exception; callers get ours.
    /// </summary>
    public static GroundworkException? FindIn(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is GroundworkException typed)
            {
                return typed;
            }
        }

        return null;
    }
}

/// <summary>A resource key or tenant id that does not parse. Nothing was activated or changed.</summary>
[GenerateSerializer, Alias("gw.err.key")]
public sealed class InvalidResourceKeyException : GroundworkException
{
    /// <summary>For the serializer.</summary>
    public InvalidResourceKeyException()
    {
    }

    /// <summary>Creates the error for <paramref name="key"/>.</summary>
    public InvalidResourceKeyException(string key, string reason)
        : base($"Invalid resource key '{Echo(key)}': {Echo(reason, 512)}.")
    {
        Key = Echo(key);
        Reason = Echo(reason, 512);
    }

    /// <summary>The key as it was given (cut to 128 characters).</summary>
    [Id(0)] public string Key { get; private set; } = "";

    /// <summary>Why it was refused.</summary>
    [Id(1)] public string Reason { get; private set; } = "";
}

/// <summary>Why a call was refused by the access check.</summary>
public enum AccessDenialReason
{
    /// <summary>The call carried no API key.</summary>
    MissingCredential = 0,

    /// <summary>The API key is not of the Groundwork form.</summary>
    MalformedCredential = 1,

    /// <summary>No such key, or the secret does not match.</summary>
    UnknownCredential = 2,

    /// <summary>The key was revoked.</summary>
    RevokedCredential = 3,

    /// <summary>The key belongs to another tenant than the resource.</summary>
    WrongTenant = 4,

    /// <summary>The caller's tenant role is too low for the method.</summary>
    InsufficientRole = 5,

    /// <summary>The resource's access list does not grant the caller this level.</summary>
    NotOnAccessList = 6,

    /// <summary>The call asked to act for an end user, but the key has no edge scope.</summary>
    OnBehalfOfNotAllowed = 7,

    /// <summary>Only the operator key may do this.</summary>
    OperatorOnly = 8,

    /// <summary>The method declares no access requirement, so it is closed to everyone.</summary>
    UndeclaredMethod = 9,
}

/// <summary>The caller may not do this. Nothing was changed.</summary>
[GenerateSerializer, Alias("gw.err.access")]
public sealed class AccessDeniedException : GroundworkException
{
    /// <summary>For the serializer.</summary>
    public AccessDeniedException()
    {
    }

    /// <summary>Creates the refusal.</summary>
    public AccessDeniedException(AccessDenialReason reason, string detail)
        : base($"Access denied ({reason}): {detail}")
    {
        Reason = reason;
        Detail = detail;
    }

    /// <summary>Why the call was refused.</summary>
    [Id(0)] public AccessDenialReason Reason { get; private set; }

    /// <summary>A sentence for people: which method, which requirement.</summary>
    [Id(1)] public string Detail { get; private set; } = "";
}

/// <summary>A mutation expected another version of the resource. Nothing was changed.</summary>
[GenerateSerializer, Alias("gw.err.version")]
public sealed class VersionConflictException : GroundworkException
{
    /// <summary>For the serializer.</summary>
    public VersionConflictException()
    {
    }

    /// <summary>Creates the conflict.</summary>
    public VersionConflictException(string resource, long expectedVersion, long currentVersion)
        : base($"Version conflict on '{resource}': expected version {expectedVersion}, current version is {currentVersion}.")
    {
        Resource = resource;
        ExpectedVersion = expectedVersion;
        CurrentVersion = currentVersion;
    }

    /// <summary>The resource key.</summary>
    [Id(0)] public string Resource { get; private set; } = "";

    /// <summary>The version the caller expected.</summary>
    [Id(1)] public long ExpectedVersion { get; private set; }

    /// <summary>The version the resource has now; read a snapshot, then retry against it.</summary>
    [Id(2)] public long CurrentVersion { get; private set; }
}

/// <summary>A request would go past a named limit. Nothing was changed.</summary>
[GenerateSerializer, Alias("gw.err.limit")]
public sealed class LimitExceededException : GroundworkException
{
    /// <summary>For the serializer.</summary>
    public LimitExceededException()
    {
    }

    /// <summary>Creates the error for the limit named <paramref name="limit"/> (its option name).</summary>
    public LimitExceededException(string limit, long maximum, long attempted)
        : base($"Limit '{limit}' exceeded: the maximum is {maximum}, the request needs {attempted}.")
    {
        Limit = limit;
        Maximum = maximum;
        Attempted = attempted;
    }

    /// <summary>The limit's option name, for example <c>Lists:MaxItems</c>.</summary>
    [Id(0)] public string Limit { get; private set; } = "";

    /// <summary>The configured maximum.</summary>
    [Id(1)] public long Maximum { get; private set; }

    /// <summary>What the request would have needed.</summary>
    [Id(2)] public long Attempted { get; private set; }
}

/// <summary>
/// An operation id was used before for another operation on this resource: another method, another caller or other
/// arguments. A retry must repeat its first call exactly; a new operation needs a new id. Nothing was changed.
/// </summary>
[GenerateSerializer, Alias("gw.err.operation-conflict")]
public sealed class OperationConflictException : GroundworkException
{
    /// <summary>For the serializer.</summary>
    public OperationConflictException()
    {
    }

    /// <summary>Creates the conflict for <paramref name="operationId"/>, saying how the calls differ.</summary>
    public OperationConflictException(string resource, string operationId, string difference)
        : base($"Operation id '{Echo(operationId)}' was already used on '{resource}' for {difference}; a retry repeats its first call exactly, a new operation needs a new id.")
    {
        Resource = resource;
        OperationId = operationId;
    }

    /// <summary>The resource key.</summary>
    [Id(0)] public string Resource { get; private set; } = "";

    /// <summary>The operation id.</summary>
    [Id(1)] public string OperationId { get; private set; } = "";
}

/// <summary>The resource, or a part of it (an item, a member, a key), does not exist.</summary>
[GenerateSerializer, Alias("gw.err.notfound")]
public sealed class NotFoundException : GroundworkException
{
    /// <summary>For the serializer.</summary>
    public NotFoundException()
    {
    }

    /// <summary>Creates the error for the <paramref name="kind"/> named <paramref name="id"/>.</summary>
    public NotFoundException(string kind, string id)
        : base($"No {kind} '{Echo(id)}'.")
    {
        Kind = kind;
        Id = Echo(id);
    }

    /// <summary>What was looked for: <c>list</c>, <c>item</c>, <c>tenant</c>, <c>member</c>, <c>key</c>.</summary>
    [Id(0)] public string Kind { get; private set; } = "";

    /// <summary>Its id.</summary>
    [Id(1)] public string Id { get; private set; } = "";
}

/// <summary>
/// The caller is going faster than a named rate allows (a member's posts, a channel's slow mode): wait
/// <see cref="RetryAfter"/> and try again. Nothing was changed.
/// </summary>
[GenerateSerializer, Alias("gw.err.rate")]
public sealed class RateLimitedException : GroundworkException
{
    /// <summary>For the serializer.</summary>
    public RateLimitedException()
    {
    }

    /// <summary>Creates the refusal for the rate named <paramref name="limit"/> (its option name).</summary>
    public RateLimitedException(string limit, TimeSpan retryAfter)
        : base($"Rate '{limit}' exceeded: retry after {Math.Ceiling(retryAfter.TotalMilliseconds)} ms.")
    {
        Limit = limit;
        RetryAfter = retryAfter;
    }

    /// <summary>The rate's option name, for example <c>Chat:PostRate</c>.</summary>
    [Id(0)] public string Limit { get; private set; } = "";

    /// <summary>How long to wait before the same call can succeed.</summary>
    [Id(1)] public TimeSpan RetryAfter { get; private set; }
}

/// <summary>Creating something that already exists.</summary>
[GenerateSerializer, Alias("gw.err.exists")]
public sealed class AlreadyExistsException : GroundworkException
{
    /// <summary>For the serializer.</summary>
    public AlreadyExistsException()
    {
    }

    /// <summary>Creates the error for the <paramref name="kind"/> named <paramref name="id"/>.</summary>
    public AlreadyExistsException(string kind, string id)
        : base($"The {kind} '{Echo(id)}' already exists.")
    {
        Kind = kind;
        Id = Echo(id);
    }

    /// <summary>What was being created.</summary>
    [Id(0)] public string Kind { get; private set; } = "";

    /// <summary>Its id.</summary>
    [Id(1)] public string Id { get; private set; } = "";
}

/// <summary>An argument is malformed (empty title, bad principal, unknown placement). Nothing was changed.</summary>
[GenerateSerializer, Alias("gw.err.invalid")]
public sealed class InvalidRequestException : GroundworkException
{
    /// <summary>For the serializer.</summary>
    public InvalidRequestException()
    {
    }

    /// <summary>Creates the error for <paramref name="field"/>.</summary>
    public InvalidRequestException(string field, string reason)
        : base($"Invalid '{Echo(field)}': {Echo(reason, 512)}.")
    {
        Field = Echo(field);
        Reason = Echo(reason, 512);
    }

    /// <summary>Throws the error for <paramref name="field"/> when <paramref name="value"/> is null (an argument a client left out).</summary>
    public static void ThrowIfNull([System.Diagnostics.CodeAnalysis.NotNull] object? value, string field)
    {
        if (value is null)
        {
            throw new InvalidRequestException(field, "must not be null");
        }
    }

    /// <summary>The argument or field at fault.</summary>
    [Id(0)] public string Field { get; private set; } = "";

    /// <summary>What is wrong with it.</summary>
    [Id(1)] public string Reason { get; private set; } = "";
}

/// <summary>A formula that does not parse: where and why. Nothing was changed.</summary>
[GenerateSerializer, Alias("gw.err.formula")]
public sealed class InvalidFormulaException : GroundworkException
{
    /// <summary>For the serializer.</summary>
    public InvalidFormulaException()
    {
    }

    /// <summary>Creates the error for <paramref name="formula"/> at <paramref name="position"/>.</summary>
    public InvalidFormulaException(string formula, int position, string reason)
        : base($"Invalid formula at position {position + 1}: {Echo(reason, 256)}. Formula: {Echo(formula)}")
    {
        Formula = Echo(formula);
        Position = position;
        Reason = Echo(reason, 256);
    }

    /// <summary>The formula (cut at 128 characters).</summary>
    [Id(0)] public string Formula { get; private set; } = "";

    /// <summary>The zero-based position in the formula's text (its leading <c>=</c> is position 0) where it stops parsing.</summary>
    [Id(1)] public int Position { get; private set; }

    /// <summary>What is wrong there.</summary>
    [Id(2)] public string Reason { get; private set; } = "";
}

/// <summary>
/// A feed cursor is older than the retained changes (or newer than the resource): the watcher must read a fresh
/// snapshot and watch again from its version.
/// </summary>
[GenerateSerializer, Alias("gw.err.resync")]
public sealed class ResyncRequiredException : GroundworkException
{
    /// <summary>For the serializer.</summary>
    public ResyncRequiredException()
    {
    }

    /// <summary>Creates the error.</summary>
    public ResyncRequiredException(string resource, long afterSequence, long oldestRetained, long currentVersion)
        : base($"Feed of '{resource}' cannot continue after sequence {afterSequence}: retained changes are " +
               $"{oldestRetained}..{currentVersion}. Read a snapshot and watch from its version.")
    {
        Resource = resource;
        AfterSequence = afterSequence;
        OldestRetained = oldestRetained;
        CurrentVersion = currentVersion;
    }

    /// <summary>The resource key.</summary>
    [Id(0)] public string Resource { get; private set; } = "";

    /// <summary>The cursor the watcher asked from.</summary>
    [Id(1)] public long AfterSequence { get; private set; }

    /// <summary>The oldest change still retained.</summary>
    [Id(2)] public long OldestRetained { get; private set; }

    /// <summary>The resource's current version (the newest sequence).</summary>
    [Id(3)] public long CurrentVersion { get; private set; }
}

/// <summary>
/// The grain storage could not be reached in time (for example Redis is down or restarting). A write that timed
/// out may still have been stored: retry a resource mutation with the same operation id, which applies it at most
/// once. Tenant administration takes no operation id: read the tenant (its keys, its members) before retrying, or a
/// retried key issue makes a second key.
/// </summary>
[GenerateSerializer, Alias("gw.err.storage")]
public sealed class StorageUnavailableException : GroundworkException
{
    /// <summary>For the serializer.</summary>
    public StorageUnavailableException()
    {
    }

    /// <summary>Creates the error for <paramref name="operation"/> on <paramref name="provider"/>, with the kind of failure in <paramref name="detail"/>.</summary>
    public StorageUnavailableException(string provider, string operation, string detail)
        : base($"Storage '{provider}' is unavailable ({operation}): {detail}. Retry once it is back, a mutation with the same operation id (it applies at most once).")
    {
        Provider = provider;
        Operation = operation;
        Detail = detail;
    }

    /// <summary>The storage provider (<c>Redis</c>, <c>Sqlite</c>).</summary>
    [Id(0)] public string Provider { get; private set; } = "";

    /// <summary>What was attempted: <c>read</c>, <c>write</c> or <c>clear</c>.</summary>
    [Id(1)] public string Operation { get; private set; } = "";

    /// <summary>
    /// What kind of failure it was (<c>not reachable</c>, <c>timed out</c>, <c>loading its data</c>); the storage
    /// client's own message, which names hosts and keys, stays in the silo's log.
    /// </summary>
    [Id(2)] public string Detail { get; private set; } = "";
}

/// <summary>
/// The silo met an error it did not expect while serving the call (a defect, not bad input). The details stay in the
/// silo's log under <see cref="IncidentId"/>; the call may or may not have taken effect, so retry with the same
/// operation id.
/// </summary>
[GenerateSerializer, Alias("gw.err.unexpected")]
public sealed class UnexpectedErrorException : GroundworkException
{
    /// <summary>For the serializer.</summary>
    public UnexpectedErrorException()
    {
    }

    /// <summary>Creates the error for the incident logged as <paramref name="incidentId"/>.</summary>
    public UnexpectedErrorException(string incidentId, string kind)
        : base($"The silo met an unexpected error ({kind}); its log names incident {incidentId}.")
    {
        IncidentId = incidentId;
        Kind = kind;
    }

    /// <summary>The id under which the silo logged the error.</summary>
    [Id(0)] public string IncidentId { get; private set; } = "";

    /// <summary>The error's type name, without its message or stack.</summary>
    [Id(1)] public string Kind { get; private set; } = "";
}

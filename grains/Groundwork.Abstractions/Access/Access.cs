namespace Groundwork.Access;

/// <summary>What a grain method needs from its caller; declared on every interface method with <see cref="RequiresAttribute"/>.</summary>
public enum Requirement
{
    /// <summary>Read the resource (tenant viewer and up, or on its access list).</summary>
    Read = 1,

    /// <summary>Change the resource's content (tenant member and up and an editor, or tenant admin).</summary>
    Write = 2,

    /// <summary>Change who may do what (tenant admin and up, or the resource's owner).</summary>
    Admin = 3,

    /// <summary>Only the operator key (bootstrap: creating tenants).</summary>
    Operator = 4,

    /// <summary>
    /// No credential needed. Only for methods that are safe for anyone who can reach the silo, such as checking
    /// a key's secret (which needs the secret).
    /// </summary>
    None = 5,
}

/// <summary>Declares the access a grain interface method needs. A method without it is refused to everyone.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = true)]
public sealed class RequiresAttribute(Requirement requirement) : Attribute
{
    /// <summary>The access the method needs.</summary>
    public Requirement Requirement { get; } = requirement;
}

/// <summary>A member's role in a tenant; each includes the ones below it.</summary>
public enum TenantRole
{
    /// <summary>Reads what the tenant shares with it.</summary>
    Viewer = 1,

    /// <summary>Creates resources and edits those it is an editor of.</summary>
    Member = 2,

    /// <summary>Everything on every resource, members and keys (but not owners).</summary>
    Admin = 3,

    /// <summary>Everything, including owner keys and roles.</summary>
    Owner = 4,
}

/// <summary>What an API key may do beyond acting as its own principal.</summary>
public enum KeyScope
{
    /// <summary>The key acts as its principal only.</summary>
    Standard = 0,

    /// <summary>
    /// An edge key (the HTTP gateway, a trusted backend): it may act on behalf of an end user it has authenticated,
    /// whose tenant role then applies.
    /// </summary>
    Edge = 1,
}

/// <summary>The names of request-context entries that carry the caller's credential. Set by Groundwork.Client.</summary>
public static class CallHeaders
{
    /// <summary>The API key (or operator key) the call is made with.</summary>
    public const string ApiKey = "gw-key";

    /// <summary>The end user an edge key acts for.</summary>
    public const string OnBehalfOf = "gw-obo";
}

/// <summary>Principal ids: 1-128 characters of A-Z a-z 0-9 and <c>. _ - @ : +</c>.</summary>
public static class Principal
{
    /// <summary>The longest principal id.</summary>
    public const int MaxLength = 128;

    /// <summary>Whether <paramref name="principal"/> is well formed.</summary>
    public static bool IsValid(string? principal) =>
        !string.IsNullOrEmpty(principal) && principal.Length <= MaxLength &&
        principal.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@' or ':' or '+');

    /// <summary>Throws <see cref="InvalidRequestException"/> unless <paramref name="principal"/> is well formed.</summary>
    public static string Validate(string? principal, string field = "principal") =>
        IsValid(principal) ? principal! : throw new InvalidRequestException(field,
            $"'{principal}' must be 1-{MaxLength} characters of A-Z a-z 0-9 . _ - @ : +");
}

/// <summary>Who may read and edit one resource, beyond the tenant's admins and owners.</summary>
/// <param name="Owner">The principal that created the resource; it may change the access list.</param>
/// <param name="Editors">Principals that may read and write.</param>
/// <param name="Viewers">Principals that may read.</param>
/// <param name="TenantReadable">Whether every tenant member may read it (default true).</param>
[GenerateSerializer, Immutable, Alias("gw.access-list")]
public sealed record AccessList(
    [property: Id(0)] string Owner,
    [property: Id(1)] IReadOnlyList<string> Editors,
    [property: Id(2)] IReadOnlyList<string> Viewers,
    [property: Id(3)] bool TenantReadable = true);

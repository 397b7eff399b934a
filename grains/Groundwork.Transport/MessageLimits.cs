namespace Groundwork.Transport;

/// <summary>
/// What one message from a client may be (configuration section <c>Groundwork:Messages</c>), checked by
/// <see cref="MessageGuard"/> on the bytes, before Orleans deserializes anything. A body over a limit is refused with
/// <see cref="LimitExceededException"/> naming it; a header over a limit, or bytes that are not an Orleans message,
/// close the connection.
/// </summary>
public sealed class MessageLimits
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Groundwork:Messages";

    /// <summary>
    /// Bytes in a message header: ids, addresses and request-context entries (a key, the end user, trace context).
    /// Default 16 KiB.
    /// </summary>
    public int MaxHeaderBytes { get; set; } = 16 * 1024;

    /// <summary>
    /// Bytes in a message body: the call and its arguments. The largest call of the building blocks today is well
    /// under 100 KiB (an item with 10,000 characters of notes). Default 1 MiB.
    /// </summary>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Objects nested inside objects in a body (a record in a list in a record ...). Deserializing recurses once per
    /// level, so this is what keeps a message from exhausting a silo thread's stack. Default 64.
    /// </summary>
    public int MaxNestingDepth { get; set; } = 64;

    /// <summary>Request-context entries in one message. Groundwork and telemetry put at most 6 there. Default 16.</summary>
    public int MaxRequestContextEntries { get; set; } = 16;

    /// <summary>Bytes in one type name written on the wire (generic arguments included). Default 1 KiB.</summary>
    public int MaxTypeNameBytes { get; set; } = 1024;

    /// <summary>
    /// Refused calls per second a client may cause, over <see cref="RefusalBurst"/>, before its connection is slowed
    /// to this rate (see <see cref="RefusalBudget"/>). 0 turns the budget off. Default 50.
    /// </summary>
    public int RefusalsPerSecond { get; set; } = 50;

    /// <summary>Refused calls a client may cause at once before <see cref="RefusalsPerSecond"/> applies. Default 100.</summary>
    public int RefusalBurst { get; set; } = 100;

    /// <summary>Why these limits cannot work, or null.</summary>
    public string? Problem() =>
        MaxHeaderBytes < 1024 ? $"{SectionName}:MaxHeaderBytes must be at least 1024" :
        MaxBodyBytes < 1024 ? $"{SectionName}:MaxBodyBytes must be at least 1024" :
        MaxNestingDepth is < 8 or > 1000 ? $"{SectionName}:MaxNestingDepth must be 8-1000" :
        MaxRequestContextEntries is < 8 or > 1000 ? $"{SectionName}:MaxRequestContextEntries must be 8-1000" :
        MaxTypeNameBytes < 256 ? $"{SectionName}:MaxTypeNameBytes must be at least 256" :
        RefusalsPerSecond < 0 || RefusalBurst < 1 ? $"{SectionName}:RefusalsPerSecond must not be negative and RefusalBurst must be positive" :
        null;
}

namespace Groundwork.Grains.Lists;

/// <summary>
/// Limits of the Lists building block (configuration section <c>Groundwork:Lists</c>). Going past one raises
/// <see cref="LimitExceededException"/> naming it, e.g. <c>Lists:MaxItems</c>.
/// </summary>
public sealed class ListOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Groundwork:Lists";

    /// <summary>Items per list. Default 10,000.</summary>
    public int MaxItems { get; set; } = 10_000;

    /// <summary>Characters in a list's title. Default 200.</summary>
    public int MaxTitleLength { get; set; } = 200;

    /// <summary>Characters in an item's title. Default 500.</summary>
    public int MaxItemTitleLength { get; set; } = 500;

    /// <summary>Characters in an item's notes. Default 10,000.</summary>
    public int MaxNotesLength { get; set; } = 10_000;

    /// <summary>Principals in a list's access list (editors and viewers together). Default 1,000.</summary>
    public int MaxAccessEntries { get; set; } = 1_000;

    /// <summary>Changes kept for feed watchers; a cursor older than these must resync. Default 1,000.</summary>
    public int FeedRetention { get; set; } = 1_000;

    /// <summary>Feed watchers open on one list at once, from all callers. Default 1,000.</summary>
    public int MaxWatchers { get; set; } = 1_000;

    /// <summary>Operation ids always remembered, however old. Default 1,000.</summary>
    public int IdempotencyMinEntries { get; set; } = 1_000;

    /// <summary>How long every operation id is remembered, however many. Default 10 minutes.</summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The hard cap on remembered operation ids, which bounds state under sustained heavy load (past it, only the
    /// newest are kept even inside the window). Default 10,000.
    /// </summary>
    public int IdempotencyMaxEntries { get; set; } = 10_000;

    /// <summary>Characters in an operation id. Default 128.</summary>
    public int MaxOperationIdLength { get; set; } = 128;
}

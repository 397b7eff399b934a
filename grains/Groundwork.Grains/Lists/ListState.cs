using Groundwork.Access;
using Groundwork.Lists;

namespace Groundwork.Grains.Lists;

/// <summary>
/// The stored state of a list: the items, the retained feed and the idempotency window, written together so a
/// mutation, its change record and its operation id are durable at once or not at all.
/// </summary>
[GenerateSerializer, Alias("gw.state.list")]
public sealed class ListState
{
    [Id(0)] public bool Created { get; set; }

    [Id(1)] public string Title { get; set; } = "";

    [Id(2)] public long Version { get; set; }

    [Id(3)] public List<ListItem> Items { get; set; } = [];

    [Id(4)] public AccessList? Access { get; set; }

    [Id(5)] public long NextItemNumber { get; set; } = 1;

    /// <summary>The newest changes, oldest first, at most <see cref="ListOptions.FeedRetention"/>.</summary>
    [Id(6)] public List<ListChange> Changes { get; set; } = [];

    /// <summary>Remembered operation ids with their first results, oldest first.</summary>
    [Id(7)] public List<OperationRecord> Operations { get; set; } = [];

    /// <summary>Whether the tenant directory has recorded the current title and access.</summary>
    [Id(8)] public bool Listed { get; set; }

    [Id(9)] public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>An operation id, who used it for which kind of mutation, and the result it first produced.</summary>
[GenerateSerializer, Immutable, Alias("gw.state.operation")]
public sealed record OperationRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] MutationResult Result,
    [property: Id(3)] string Kind = "",
    [property: Id(4)] string By = "");

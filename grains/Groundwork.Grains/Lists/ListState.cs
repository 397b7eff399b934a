using Groundwork.Grains.Resources;
using Groundwork.Lists;

namespace Groundwork.Grains.Lists;

/// <summary>
/// The head of a list's stored state, written by every mutation: the kit's fields, the title and the index of the
/// item pages (their order and sizes). The items themselves are in pages (<see cref="ItemPage"/>), and only the pages
/// a mutation changed are written with it.
/// </summary>
public sealed class ListHead : ResourceHead
{
    /// <summary>The list's title.</summary>
    public string Title { get; set; } = "";

    /// <summary>The number in the next item's id (<c>i{n}</c>).</summary>
    public long NextItemNumber { get; set; } = 1;

    /// <summary>The number in the next page's id (<c>p{n}</c>).</summary>
    public long NextPageNumber { get; set; } = 1;

    /// <summary>The chunk ids of the item pages, in list order (ids only: the head is written by every mutation).</summary>
    public List<string> Pages { get; set; } = [];
}

/// <summary>A run of consecutive items of a list, stored as one chunk (collection <c>items</c>).</summary>
public sealed class ItemPage : ElementPage<ListItem>;

/// <summary>
/// A list as the release before the kit stored it (one JSON object in <c>grain_state</c>, state name <c>list</c>):
/// read once to import it into the kit's format, never written.
/// </summary>
internal sealed class LegacyListState
{
    public bool Created { get; set; }

    public string Title { get; set; } = "";

    public long Version { get; set; }

    public List<ListItem> Items { get; set; } = [];

    public Groundwork.Access.AccessList? Access { get; set; }

    public long NextItemNumber { get; set; } = 1;

    public List<ListChange> Changes { get; set; } = [];

    public List<LegacyOperation> Operations { get; set; } = [];

    public bool Listed { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>An operation record, whose result named the item <c>ItemId</c>.</summary>
    public sealed record LegacyOperation(string Id, DateTimeOffset At, LegacyResult Result, string Kind = "", string By = "");

    /// <summary>A mutation result before <c>ItemId</c> became <c>Id</c>.</summary>
    public sealed record LegacyResult(long Version, string? ItemId = null, int Count = 1, bool Replayed = false);
}

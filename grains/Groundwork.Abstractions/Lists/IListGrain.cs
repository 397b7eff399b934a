using Groundwork.Access;

namespace Groundwork.Lists;

/// <summary>
/// A list: a title, ordered items and an access list. Keyed by a <see cref="ResourceKey"/> of kind
/// <c>list</c> (<c>{tenant}/list/{name}</c>).
/// </summary>
/// <remarks>
/// Every mutation takes <see cref="MutationOptions"/>: an expected version (a mismatch raises
/// <see cref="VersionConflictException"/> and changes nothing) and an operation id (a retried id returns the first
/// result and changes nothing again). Every mutation advances <see cref="ListSnapshot.Version"/> by one and appends
/// one <see cref="ListChange"/> with that sequence number to the feed.
/// </remarks>
[Alias("gw.list"), ResourceKind("list", "lists")]
public interface IListGrain : IFeedResource<ListChange>
{
    /// <summary>Creates the list; the caller becomes its owner.</summary>
    /// <exception cref="AlreadyExistsException">It exists.</exception>
    [Alias("create"), Requires(Requirement.Write)]
    Task<MutationResult> CreateAsync(string title, MutationOptions? options = null);

    /// <summary>Changes the list's title.</summary>
    [Alias("rename"), Requires(Requirement.Write)]
    Task<MutationResult> RenameAsync(string title, MutationOptions? options = null);

    /// <summary>Adds an item at <paramref name="position"/> (0 is first; null or past the end appends).</summary>
    /// <returns>The result; <see cref="MutationResult.Id"/> is the new item's id.</returns>
    [Alias("add-item"), Requires(Requirement.Write)]
    Task<MutationResult> AddItemAsync(NewItem item, int? position = null, MutationOptions? options = null);

    /// <summary>Changes the fields that <paramref name="edit"/> sets; the others stay.</summary>
    [Alias("edit-item"), Requires(Requirement.Write)]
    Task<MutationResult> EditItemAsync(string itemId, ItemEdit edit, MutationOptions? options = null);

    /// <summary>Moves an item just before or just after another item.</summary>
    [Alias("move-item"), Requires(Requirement.Write)]
    Task<MutationResult> MoveItemAsync(string itemId, Placement placement, string anchorItemId, MutationOptions? options = null);

    /// <summary>Marks an item done.</summary>
    [Alias("complete-item"), Requires(Requirement.Write)]
    Task<MutationResult> CompleteItemAsync(string itemId, MutationOptions? options = null);

    /// <summary>Marks an item not done.</summary>
    [Alias("reopen-item"), Requires(Requirement.Write)]
    Task<MutationResult> ReopenItemAsync(string itemId, MutationOptions? options = null);

    /// <summary>Removes an item.</summary>
    [Alias("remove-item"), Requires(Requirement.Write)]
    Task<MutationResult> RemoveItemAsync(string itemId, MutationOptions? options = null);

    /// <summary>Removes every done item.</summary>
    /// <returns>The result; <see cref="MutationResult.Count"/> is how many were removed.</returns>
    [Alias("clear-completed"), Requires(Requirement.Write)]
    Task<MutationResult> ClearCompletedAsync(MutationOptions? options = null);

    /// <summary>Replaces the editors and viewers (the owner stays). For the owner and tenant admins.</summary>
    [Alias("set-access"), Requires(Requirement.Admin)]
    Task<MutationResult> SetAccessAsync(IReadOnlyList<string> editors, IReadOnlyList<string> viewers, bool tenantReadable, MutationOptions? options = null);

    /// <summary>The whole list at its current version.</summary>
    /// <exception cref="NotFoundException">The list has not been created.</exception>
    [Alias("get"), Requires(Requirement.Read), Safe]
    Task<ListSnapshot> GetAsync();
}

/// <summary>Where a move puts an item, relative to its anchor.</summary>
public enum Placement
{
    /// <summary>Just before the anchor.</summary>
    Before = 0,

    /// <summary>Just after the anchor.</summary>
    After = 1,
}

/// <summary>A new item's fields.</summary>
/// <param name="Title">1-500 characters.</param>
/// <param name="Notes">Up to 10,000 characters.</param>
/// <param name="Assignee">A principal id, or none.</param>
/// <param name="Due">A due date, or none.</param>
[GenerateSerializer, Immutable, Alias("gw.new-item")]
public sealed record NewItem(
    [property: Id(0)] string Title,
    [property: Id(1)] string? Notes = null,
    [property: Id(2)] string? Assignee = null,
    [property: Id(3)] DateOnly? Due = null);

/// <summary>
/// The fields of an item to change; a null field stays as it is. Empty <see cref="Notes"/> clears them;
/// <see cref="ClearAssignee"/> and <see cref="ClearDue"/> clear those.
/// </summary>
[GenerateSerializer, Immutable, Alias("gw.item-edit")]
public sealed record ItemEdit(
    [property: Id(0)] string? Title = null,
    [property: Id(1)] string? Notes = null,
    [property: Id(2)] string? Assignee = null,
    [property: Id(3)] DateOnly? Due = null,
    [property: Id(4)] bool ClearAssignee = false,
    [property: Id(5)] bool ClearDue = false);

/// <summary>One item of a list.</summary>
[GenerateSerializer, Immutable, Alias("gw.list-item")]
public sealed record ListItem(
    [property: Id(0)] string Id,
    [property: Id(1)] string Title,
    [property: Id(2)] string Notes,
    [property: Id(3)] bool Done,
    [property: Id(4)] string? Assignee,
    [property: Id(5)] DateOnly? Due);

/// <summary>A list at one version.</summary>
[GenerateSerializer, Immutable, Alias("gw.list-snapshot")]
public sealed record ListSnapshot(
    [property: Id(0)] string Key,
    [property: Id(1)] string Title,
    [property: Id(2)] long Version,
    [property: Id(3)] IReadOnlyList<ListItem> Items,
    [property: Id(4)] AccessList Access);

/// <summary>What kind of change a <see cref="ListChange"/> records.</summary>
public enum ListChangeKind
{
    /// <summary>The list was created (<see cref="ListChange.Title"/>).</summary>
    ListCreated = 0,

    /// <summary>The list was renamed (<see cref="ListChange.Title"/>).</summary>
    ListRenamed = 1,

    /// <summary>An item was added at <see cref="ListChange.Position"/>.</summary>
    ItemAdded = 2,

    /// <summary>An item's fields changed.</summary>
    ItemEdited = 3,

    /// <summary>An item moved to <see cref="ListChange.Position"/>.</summary>
    ItemMoved = 4,

    /// <summary>An item was marked done.</summary>
    ItemCompleted = 5,

    /// <summary>An item was marked not done.</summary>
    ItemReopened = 6,

    /// <summary>An item was removed.</summary>
    ItemRemoved = 7,

    /// <summary>Done items were removed (<see cref="ListChange.RemovedItemIds"/>).</summary>
    CompletedCleared = 8,

    /// <summary>The access list changed.</summary>
    AccessChanged = 9,
}

/// <summary>One change of a list, as its feed delivers it.</summary>
/// <param name="Sequence">The list's version after this change; consecutive, starting at 1.</param>
/// <param name="Kind">What happened.</param>
/// <param name="At">When (silo clock).</param>
/// <param name="By">The principal that made the change.</param>
/// <param name="Item">The item as it is after the change (for item changes other than removal).</param>
/// <param name="ItemId">The item concerned, if any.</param>
/// <param name="Position">The item's index after the change (adds and moves).</param>
/// <param name="Title">The list title (create and rename).</param>
/// <param name="RemovedItemIds">The items removed by a clear.</param>
[GenerateSerializer, Immutable, Alias("gw.list-change")]
public sealed record ListChange(
    [property: Id(0)] long Sequence,
    [property: Id(1)] ListChangeKind Kind,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] string By,
    [property: Id(4)] ListItem? Item = null,
    [property: Id(5)] string? ItemId = null,
    [property: Id(6)] int? Position = null,
    [property: Id(7)] string? Title = null,
    [property: Id(8)] IReadOnlyList<string>? RemovedItemIds = null) : IChange;

/// <summary>Getting list grains by key.</summary>
public static class ListGrainFactoryExtensions
{
    /// <summary>The list at <paramref name="key"/>.</summary>
    /// <exception cref="InvalidResourceKeyException">The key is not a list's: nothing is sent.</exception>
    public static IListGrain GetList(this IGrainFactory factory, ResourceKey key) => factory.GetResource<IListGrain>(key);

    /// <summary>The list at <paramref name="key"/> (<c>{tenant}/list/{name}</c>), parsed first.</summary>
    /// <exception cref="InvalidResourceKeyException">The key is malformed: nothing is sent.</exception>
    public static IListGrain GetList(this IGrainFactory factory, string key) => factory.GetResource<IListGrain>(key);
}

using Groundwork.Grains.Resources;
using Groundwork.Lists;
using Groundwork.Tenants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Groundwork.Grains.Lists;

/// <summary>
/// A list: list logic only. The kit (<see cref="IResource{THead, TChange}"/>) runs every mutation (idempotency, the
/// version guard, one durable commit, the feed) and the feed itself. Items live in pages of at most
/// <see cref="MaxPageItems"/>; a mutation writes the head and the pages it changed.
/// </summary>
public sealed class ListGrain(
    [Resource] IResource<ListHead, ListChange> list,
    [FromKeyedServices(StorageNames.Provider)] IGrainStorage legacyStorage,
    IOptions<ListOptions> options) : Grain, IListGrain
{
    /// <summary>The most items one page holds; a fuller page splits in two.</summary>
    internal const int MaxPageItems = 50;

    private readonly ListOptions _limits = options.Value;
    private readonly List<Page> _pages = [];
    // The page of each item, made with the first item (an empty list holds none).
    private Dictionary<string, Page>? _pageOfItem;
    private ChunkSet<ItemPage> _chunks = null!;

    private ListHead State => list.State;

    private int Count => _pages.Sum(p => p.Items.Count);

    /// <inheritdoc/>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _chunks = list.Chunks<ItemPage>("items");
        if (!State.Created && list.KeyError is null)
        {
            await ImportLegacyAsync();
            return;
        }

        if (State.Pages.Count > 0)
        {
            var stored = (await _chunks.LoadAllAsync()).ToDictionary(c => c.Id, c => c.Chunk, StringComparer.Ordinal);
            foreach (var id in State.Pages)
            {
                AddPage(_pages.Count, new Page(id, stored.TryGetValue(id, out var chunk) ? chunk : new ItemPage()), loading: true);
            }
        }
    }

    /// <inheritdoc/>
    public Task<MutationResult> CreateAsync(string title, MutationOptions? options = null) =>
        list.CreateAsync(options, () =>
        {
            ValidateTitle(title);
            State.Title = title;
            return Change(ListChangeKind.ListCreated, title: title);
        });

    /// <inheritdoc/>
    public Task<MutationResult> RenameAsync(string title, MutationOptions? options = null) =>
        list.MutateAsync(options, () =>
        {
            ValidateTitle(title);
            State.Title = title;
            list.Relist();
            return Change(ListChangeKind.ListRenamed, title: title);
        });

    /// <inheritdoc/>
    public Task<MutationResult> AddItemAsync(NewItem item, int? position = null, MutationOptions? options = null) =>
        list.MutateAsync(options, () =>
        {
            InvalidRequestException.ThrowIfNull(item, nameof(item));
            ValidateItemTitle(item.Title);
            ValidateNotes(item.Notes);
            ValidateAssignee(item.Assignee);
            if (position < 0)
            {
                throw new InvalidRequestException(nameof(position), "must be 0 or more");
            }

            var count = Count;
            if (count >= _limits.MaxItems)
            {
                throw list.Limit(nameof(ListOptions.MaxItems), _limits.MaxItems, count + 1);
            }

            var index = Math.Min(position ?? count, count);
            var added = new ListItem($"i{State.NextItemNumber++}", item.Title, item.Notes ?? "", false, item.Assignee, item.Due);
            Insert(index, added);
            return Change(ListChangeKind.ItemAdded, added, index);
        });

    /// <inheritdoc/>
    public Task<MutationResult> EditItemAsync(string itemId, ItemEdit edit, MutationOptions? options = null) =>
        list.MutateAsync(options, () =>
        {
            InvalidRequestException.ThrowIfNull(edit, nameof(edit));
            var index = IndexOf(itemId);
            if (edit.Title is not null)
            {
                ValidateItemTitle(edit.Title);
            }

            ValidateNotes(edit.Notes);
            ValidateAssignee(edit.Assignee);
            if ((edit.ClearAssignee && edit.Assignee is not null) || (edit.ClearDue && edit.Due is not null))
            {
                throw new InvalidRequestException(nameof(edit), "a field cannot be both set and cleared");
            }

            var old = ItemAt(index);
            var updated = old with
            {
                Title = edit.Title ?? old.Title,
                Notes = edit.Notes ?? old.Notes,
                Assignee = edit.ClearAssignee ? null : edit.Assignee ?? old.Assignee,
                Due = edit.ClearDue ? null : edit.Due ?? old.Due,
            };
            Replace(updated);
            return Change(ListChangeKind.ItemEdited, updated, index);
        });

    /// <inheritdoc/>
    public Task<MutationResult> MoveItemAsync(string itemId, Placement placement, string anchorItemId, MutationOptions? options = null) =>
        list.MutateAsync(options, () =>
        {
            if (!Enum.IsDefined(placement))
            {
                throw new InvalidRequestException(nameof(placement), $"unknown placement {(int)placement}");
            }

            if (itemId == anchorItemId)
            {
                throw new InvalidRequestException(nameof(anchorItemId), "an item cannot be moved relative to itself");
            }

            var from = IndexOf(itemId);
            IndexOf(anchorItemId);
            var item = RemoveAt(from);
            var anchor = IndexOf(anchorItemId);
            var to = placement == Placement.Before ? anchor : anchor + 1;
            Insert(to, item);
            return Change(ListChangeKind.ItemMoved, item, to);
        });

    /// <inheritdoc/>
    public Task<MutationResult> CompleteItemAsync(string itemId, MutationOptions? options = null) => SetDoneAsync(itemId, done: true, options);

    /// <inheritdoc/>
    public Task<MutationResult> ReopenItemAsync(string itemId, MutationOptions? options = null) => SetDoneAsync(itemId, done: false, options);

    /// <inheritdoc/>
    public Task<MutationResult> RemoveItemAsync(string itemId, MutationOptions? options = null) =>
        list.MutateAsync(options, () =>
        {
            var index = IndexOf(itemId);
            var removed = RemoveAt(index);
            return new Applied<ListChange>(s => new ListChange(s.Sequence, ListChangeKind.ItemRemoved, s.At, s.By, ItemId: removed.Id, Position: index), removed.Id);
        });

    /// <inheritdoc/>
    public Task<MutationResult> ClearCompletedAsync(MutationOptions? options = null) =>
        list.MutateAsync(options, () =>
        {
            var removed = new List<string>();
            foreach (var page in _pages.ToList())
            {
                foreach (var done in page.Items.Where(i => i.Done).ToList())
                {
                    removed.Add(done.Id);
                    PageOf.Remove(done.Id);
                }

                if (page.Items.RemoveAll(i => i.Done) > 0)
                {
                    Changed(page);
                }
            }

            return new Applied<ListChange>(s => new ListChange(s.Sequence, ListChangeKind.CompletedCleared, s.At, s.By, RemovedItemIds: removed), Count: removed.Count);
        });

    /// <inheritdoc/>
    public Task<MutationResult> SetAccessAsync(IReadOnlyList<string> editors, IReadOnlyList<string> viewers, bool tenantReadable, MutationOptions? options = null) =>
        list.MutateAsync(options, () =>
        {
            list.SetAccess(editors, viewers, tenantReadable);
            return new Applied<ListChange>(s => new ListChange(s.Sequence, ListChangeKind.AccessChanged, s.At, s.By));
        });

    /// <inheritdoc/>
    public Task<ListSnapshot> GetAsync()
    {
        list.EnsureCreated();
        return Task.FromResult(new ListSnapshot(this.GetPrimaryKeyString(), State.Title, State.Version, [.. _pages.SelectMany(p => p.Items)], State.Access!));
    }

    /// <inheritdoc/>
    public Task<ResourceSummary> GetSummaryAsync() => Task.FromResult(list.Summary(State.Title));

    /// <inheritdoc/>
    public IAsyncEnumerable<ListChange> WatchAsync(long afterSequence, CancellationToken cancellationToken = default) =>
        list.WatchAsync(afterSequence, cancellationToken);

    private Task<MutationResult> SetDoneAsync(string itemId, bool done, MutationOptions? options) =>
        list.MutateAsync(options, () =>
        {
            var index = IndexOf(itemId);
            var updated = ItemAt(index) with { Done = done };
            Replace(updated);
            return Change(done ? ListChangeKind.ItemCompleted : ListChangeKind.ItemReopened, updated, index);
        });

    private static Applied<ListChange> Change(ListChangeKind kind, ListItem? item = null, int? position = null, string? title = null) =>
        new(s => new ListChange(s.Sequence, kind, s.At, s.By, item, item?.Id, position, title), item?.Id);

    /// <summary>Reads a list stored by the release before the kit, if there is one, into the kit.</summary>
    private async Task ImportLegacyAsync()
    {
        var legacy = new GrainState<LegacyListState>();
        await legacyStorage.ReadStateAsync(StorageNames.List, this.GetGrainId(), legacy);
        if (!legacy.RecordExists || legacy.State is not { Created: true } old)
        {
            return;
        }

        var head = new ListHead
        {
            Created = true,
            CreatedAt = old.CreatedAt,
            Version = old.Version,
            Access = old.Access,
            Listed = old.Listed,
            Title = old.Title,
            NextItemNumber = old.NextItemNumber,
        };
        list.Import(head, old.Changes, old.Operations.Select(o =>
            new OperationRecord(o.Id, o.At, new MutationResult(o.Result.Version, o.Result.ItemId, o.Result.Count, o.Result.Replayed), o.Kind, o.By)));
        foreach (var item in old.Items)
        {
            Insert(Count, item);
        }
    }

    // The pages: list order is page order, then order within a page; the head keeps the page index in step.

    private Dictionary<string, Page> PageOf => _pageOfItem ??= new(StringComparer.Ordinal);

    private int IndexOf(string itemId)
    {
        if (itemId is null || _pageOfItem is null || !_pageOfItem.TryGetValue(itemId, out var page))
        {
            throw new NotFoundException("item", itemId ?? "");
        }

        var before = 0;
        foreach (var p in _pages)
        {
            if (p == page)
            {
                break;
            }

            before += p.Items.Count;
        }

        return before + page.Items.FindIndex(i => i.Id == itemId);
    }

    private (Page Page, int Offset) Locate(int index)
    {
        foreach (var page in _pages)
        {
            if (index < page.Items.Count)
            {
                return (page, index);
            }

            index -= page.Items.Count;
        }

        throw new ArgumentOutOfRangeException(nameof(index));
    }

    private ListItem ItemAt(int index)
    {
        var (page, offset) = Locate(index);
        return page.Items[offset];
    }

    private void Replace(ListItem item)
    {
        var page = PageOf[item.Id];
        page.Items[page.Items.FindIndex(i => i.Id == item.Id)] = item;
        Changed(page);
    }

    private void Insert(int index, ListItem item)
    {
        Page page;
        int offset;
        if (_pages.Count == 0)
        {
            page = NewPage(0);
            offset = 0;
        }
        else if (index >= Count)
        {
            page = _pages[^1];
            offset = page.Items.Count;
        }
        else
        {
            (page, offset) = Locate(index);
        }

        page.Items.Insert(offset, item);
        PageOf[item.Id] = page;
        if (page.Items.Count > MaxPageItems)
        {
            // Split in two halves: the second half moves to a new page just after.
            var half = page.Items.Count / 2;
            var next = NewPage(_pages.IndexOf(page) + 1);
            next.Items.AddRange(page.Items.Skip(half));
            page.Items.RemoveRange(half, page.Items.Count - half);
            foreach (var moved in next.Items)
            {
                PageOf[moved.Id] = next;
            }

            Changed(next);
        }

        Changed(page);
    }

    private ListItem RemoveAt(int index)
    {
        var (page, offset) = Locate(index);
        var item = page.Items[offset];
        page.Items.RemoveAt(offset);
        PageOf.Remove(item.Id);
        Changed(page);
        return item;
    }

    private Page NewPage(int at)
    {
        var page = new Page($"p{State.NextPageNumber++}", new ItemPage());
        AddPage(at, page);
        return page;
    }

    private void AddPage(int at, Page page, bool loading = false)
    {
        _pages.Insert(at, page);
        if (!loading)
        {
            IndexPages();
        }

        foreach (var item in page.Items)
        {
            PageOf[item.Id] = page;
        }
    }

    /// <summary>A page changed: written with the commit (or removed when empty, and the head's index follows).</summary>
    private void Changed(Page page)
    {
        if (page.Items.Count == 0)
        {
            _pages.Remove(page);
            _chunks.Remove(page.Id);
            IndexPages();
        }
        else
        {
            _chunks.Put(page.Id, page.Chunk);
        }
    }

    /// <summary>The head's page index follows the pages (it changes only when a page is added or removed).</summary>
    private void IndexPages() => State.Pages = [.. _pages.Select(p => p.Id)];


    private void ValidateTitle(string title)
    {
        if (string.IsNullOrWhiteSpace(title))
        {
            throw new InvalidRequestException(nameof(title), "must not be empty");
        }

        if (title.Length > _limits.MaxTitleLength)
        {
            throw list.Limit(nameof(ListOptions.MaxTitleLength), _limits.MaxTitleLength, title.Length);
        }
    }

    private void ValidateItemTitle(string title)
    {
        if (string.IsNullOrWhiteSpace(title))
        {
            throw new InvalidRequestException(nameof(title), "an item's title must not be empty");
        }

        if (title.Length > _limits.MaxItemTitleLength)
        {
            throw list.Limit(nameof(ListOptions.MaxItemTitleLength), _limits.MaxItemTitleLength, title.Length);
        }
    }

    private void ValidateNotes(string? notes)
    {
        if (notes is not null && notes.Length > _limits.MaxNotesLength)
        {
            throw list.Limit(nameof(ListOptions.MaxNotesLength), _limits.MaxNotesLength, notes.Length);
        }
    }

    private static void ValidateAssignee(string? assignee)
    {
        if (assignee is not null)
        {
            Groundwork.Access.Principal.Validate(assignee, nameof(assignee));
        }
    }

    /// <summary>A page in memory: its chunk id and its items.</summary>
    private sealed record Page(string Id, ItemPage Chunk)
    {
        public List<ListItem> Items => Chunk.Items;
    }
}

using System.Runtime.CompilerServices;
using Groundwork.Access;
using Groundwork.Grains.Access;
using Groundwork.Grains.Telemetry;
using Groundwork.Lists;
using Groundwork.Tenants;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Groundwork.Grains.Lists;

/// <summary>
/// A list. Every mutation goes through <see cref="MutateAsync"/>: idempotency, then the version guard, then
/// validation, then one write of items + change record + operation id; watchers see a change only once it is durable.
/// </summary>
public sealed partial class ListGrain(
    [PersistentState(StorageNames.List, StorageNames.Provider)] IPersistentState<ListState> state,
    IOptions<ListOptions> options,
    IOptions<AccessOptions> accessOptions,
    CredentialVerifier verifier,
    WatcherCount watcherCount,
    TimeProvider time,
    ILogger<ListGrain> logger) : Grain, IListGrain, IAccessControlled
{
    private const string Block = "lists";

    private readonly ListOptions _limits = options.Value;
    private readonly TimeSpan _recheckAccessEvery = accessOptions.Value.CredentialCacheDuration > TimeSpan.Zero
        ? accessOptions.Value.CredentialCacheDuration
        : TimeSpan.FromSeconds(1);
    private TaskCompletionSource _changed = NewSignal();
    private long _durableVersion;
    private bool _deactivating;
    private int _directoryEpoch;
    private bool _registering;
    private ResourceKey? _key;
    private InvalidResourceKeyException? _keyError;
    private int _watchers;

    private ListState State => state.State;

    /// <inheritdoc/>
    public string? Tenant => Key?.Tenant;

    /// <inheritdoc/>
    public InvalidResourceKeyException? KeyError => Key is null ? _keyError : null;

    /// <inheritdoc/>
    public AccessList? AccessList => State.Created ? State.Access : null;

    private ResourceKey? Key
    {
        get
        {
            if (_key is null && _keyError is null)
            {
                var text = this.GetPrimaryKeyString();
                if (ResourceKey.TryParse(text, out var key, out var reason) && key.Kind == ResourceKinds.List)
                {
                    _key = key;
                }
                else
                {
                    _keyError = new InvalidResourceKeyException(text, reason ?? $"expected a '{ResourceKinds.List}' key");
                }
            }

            return _key;
        }
    }

    /// <inheritdoc/>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _durableVersion = State.Version;
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Wake the watchers so they end with EnumerationAbortedException and reopen from their cursors elsewhere.
        _deactivating = true;
        _changed.TrySetResult();
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<MutationResult> CreateAsync(string title, MutationOptions? options = null) =>
        MutateAsync("create", options, () =>
        {
            if (State.Created)
            {
                throw new AlreadyExistsException(ResourceKinds.List, this.GetPrimaryKeyString());
            }

            ValidateTitle(title);
            State.Created = true;
            State.CreatedAt = time.GetUtcNow();
            State.Title = title;
            State.Access = new AccessList(CallerContext.Principal, [], []);
            MarkUnlisted();
            return new Draft(ListChangeKind.ListCreated, Title: title);
        });

    /// <inheritdoc/>
    public Task<MutationResult> RenameAsync(string title, MutationOptions? options = null) =>
        MutateAsync("rename", options, () =>
        {
            ValidateTitle(title);
            State.Title = title;
            MarkUnlisted();
            return new Draft(ListChangeKind.ListRenamed, Title: title);
        });

    /// <inheritdoc/>
    public Task<MutationResult> AddItemAsync(NewItem item, int? position = null, MutationOptions? options = null) =>
        MutateAsync("add-item", options, () =>
        {
            ArgumentNullException.ThrowIfNull(item);
            ValidateItemTitle(item.Title);
            ValidateNotes(item.Notes);
            ValidateAssignee(item.Assignee);
            if (position < 0)
            {
                throw new InvalidRequestException(nameof(position), "must be 0 or more");
            }

            if (State.Items.Count >= _limits.MaxItems)
            {
                throw new LimitExceededException("Lists:MaxItems", _limits.MaxItems, State.Items.Count + 1);
            }

            var index = Math.Min(position ?? State.Items.Count, State.Items.Count);
            var added = new ListItem($"i{State.NextItemNumber++}", item.Title, item.Notes ?? "", false, item.Assignee, item.Due);
            State.Items.Insert(index, added);
            return new Draft(ListChangeKind.ItemAdded, added, added.Id, index);
        });

    /// <inheritdoc/>
    public Task<MutationResult> EditItemAsync(string itemId, ItemEdit edit, MutationOptions? options = null) =>
        MutateAsync("edit-item", options, () =>
        {
            ArgumentNullException.ThrowIfNull(edit);
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

            var old = State.Items[index];
            var updated = old with
            {
                Title = edit.Title ?? old.Title,
                Notes = edit.Notes ?? old.Notes,
                Assignee = edit.ClearAssignee ? null : edit.Assignee ?? old.Assignee,
                Due = edit.ClearDue ? null : edit.Due ?? old.Due,
            };
            State.Items[index] = updated;
            return new Draft(ListChangeKind.ItemEdited, updated, updated.Id, index);
        });

    /// <inheritdoc/>
    public Task<MutationResult> MoveItemAsync(string itemId, Placement placement, string anchorItemId, MutationOptions? options = null) =>
        MutateAsync("move-item", options, () =>
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
            var item = State.Items[from];
            State.Items.RemoveAt(from);
            var anchor = IndexOf(anchorItemId);
            var to = placement == Placement.Before ? anchor : anchor + 1;
            State.Items.Insert(to, item);
            return new Draft(ListChangeKind.ItemMoved, item, item.Id, to);
        });

    /// <inheritdoc/>
    public Task<MutationResult> CompleteItemAsync(string itemId, MutationOptions? options = null) =>
        SetDoneAsync("complete-item", itemId, done: true, options);

    /// <inheritdoc/>
    public Task<MutationResult> ReopenItemAsync(string itemId, MutationOptions? options = null) =>
        SetDoneAsync("reopen-item", itemId, done: false, options);

    /// <inheritdoc/>
    public Task<MutationResult> RemoveItemAsync(string itemId, MutationOptions? options = null) =>
        MutateAsync("remove-item", options, () =>
        {
            var index = IndexOf(itemId);
            var removed = State.Items[index];
            State.Items.RemoveAt(index);
            return new Draft(ListChangeKind.ItemRemoved, ItemId: removed.Id, Position: index);
        });

    /// <inheritdoc/>
    public Task<MutationResult> ClearCompletedAsync(MutationOptions? options = null) =>
        MutateAsync("clear-completed", options, () =>
        {
            var removed = State.Items.Where(i => i.Done).Select(i => i.Id).ToList();
            State.Items.RemoveAll(i => i.Done);
            return new Draft(ListChangeKind.CompletedCleared, RemovedItemIds: removed, Count: removed.Count);
        });

    /// <inheritdoc/>
    public Task<MutationResult> SetAccessAsync(IReadOnlyList<string> editors, IReadOnlyList<string> viewers, bool tenantReadable, MutationOptions? options = null) =>
        MutateAsync("set-access", options, () =>
        {
            ArgumentNullException.ThrowIfNull(editors);
            ArgumentNullException.ThrowIfNull(viewers);
            var total = editors.Count + viewers.Count;
            if (total > _limits.MaxAccessEntries)
            {
                throw new LimitExceededException("Lists:MaxAccessEntries", _limits.MaxAccessEntries, total);
            }

            foreach (var principal in editors.Concat(viewers))
            {
                Principal.Validate(principal, "access list");
            }

            MarkUnlisted();
            State.Access = State.Access! with
            {
                Editors = editors.Distinct(StringComparer.Ordinal).ToList(),
                Viewers = viewers.Distinct(StringComparer.Ordinal).ToList(),
                TenantReadable = tenantReadable,
            };
            return new Draft(ListChangeKind.AccessChanged);
        });

    /// <inheritdoc/>
    public Task<ListSnapshot> GetAsync()
    {
        EnsureCreated();
        return Task.FromResult(new ListSnapshot(this.GetPrimaryKeyString(), State.Title, State.Version, State.Items.ToList(), State.Access!));
    }

    /// <inheritdoc/>
    public Task<ResourceSummary> GetSummaryAsync()
    {
        EnsureCreated();
        var key = Key!.Value;
        return Task.FromResult(new ResourceSummary(
            new ResourceEntry(key.ToString(), key.Kind, State.Title, State.Access!.Owner, State.CreatedAt),
            State.Access));
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ListChange> WatchAsync(long afterSequence, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        EnsureCreated();

        // The watcher's credential, as verified when the watch started. A feed can stay open for hours, so the
        // caller's right to read is checked again on every batch (access list changes) and the key is verified
        // again every credential-cache period (revocation, role changes).
        var caller = CallerContext.Current;
        var apiKey = RequestContext.Get(CallHeaders.ApiKey) as string;
        var onBehalfOf = RequestContext.Get(CallHeaders.OnBehalfOf) as string;
        var verifiedAt = time.GetUtcNow();
        var cursor = afterSequence;

        // Changes already durable when the watch starts are history being replayed; only later ones measure lag.
        var liveAfter = _durableVersion;
        if (_watchers >= _limits.MaxWatchers)
        {
            throw new LimitExceededException("Lists:MaxWatchers", _limits.MaxWatchers, _watchers + 1);
        }

        using var perKey = apiKey is null ? null : watcherCount.Enter(apiKey);
        var blockTag = new KeyValuePair<string, object?>("block", Block);
        _watchers++;
        GroundworkMetrics.FeedWatchers.Add(1, blockTag);
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (_deactivating)
                {
                    throw new EnumerationAbortedException($"List '{this.GetPrimaryKeyString()}' is deactivating: watch again after sequence {cursor}.");
                }

                if (caller is not null)
                {
                    if (time.GetUtcNow() - verifiedAt >= _recheckAccessEvery)
                    {
                        caller = await VerifyWatcherAsync(verifier, apiKey, onBehalfOf);
                        verifiedAt = time.GetUtcNow();
                    }

                    if (AccessPolicy.Check(caller, Requirement.Read, Tenant!, State.Access) is { } refusal)
                    {
                        throw GroundworkMetrics.Refused(refusal);
                    }
                }

                var pending = Pending(cursor);
                foreach (var change in pending)
                {
                    if (change.Sequence > liveAfter)
                    {
                        GroundworkMetrics.FeedLag.Record(Math.Max(0, (time.GetUtcNow() - change.At).TotalMilliseconds), blockTag);
                    }

                    yield return change;
                    cursor = change.Sequence;
                }

                if (pending.Count == 0)
                {
                    try
                    {
                        await _changed.Task.WaitAsync(_recheckAccessEvery, time, cancellationToken);
                    }
                    catch (TimeoutException)
                    {
                        // Nothing changed for a while: loop to check the watcher's access again.
                    }
                }
            }
        }
        finally
        {
            _watchers--;
            GroundworkMetrics.FeedWatchers.Add(-1, blockTag);
        }
    }

    private static async Task<Caller> VerifyWatcherAsync(CredentialVerifier verifier, string? apiKey, string? onBehalfOf)
    {
        try
        {
            return await verifier.VerifyAsync(apiKey, onBehalfOf, fresh: true);
        }
        catch (AccessDeniedException denied)
        {
            throw GroundworkMetrics.Refused(denied);
        }
    }

    /// <summary>The durable changes after <paramref name="cursor"/>, or a resync when there is a gap.</summary>
    private List<ListChange> Pending(long cursor)
    {
        var oldest = State.Changes.Count > 0 ? State.Changes[0].Sequence : _durableVersion + 1;
        if (cursor < oldest - 1 || cursor > _durableVersion || cursor < 0)
        {
            throw new ResyncRequiredException(this.GetPrimaryKeyString(), cursor, oldest, _durableVersion);
        }

        // Sequences in Changes are consecutive, so the change after the cursor sits at a computable index.
        var pending = new List<ListChange>();
        for (var i = (int)(cursor + 1 - oldest); i < State.Changes.Count && State.Changes[i].Sequence <= _durableVersion; i++)
        {
            pending.Add(State.Changes[i]);
        }

        return pending;
    }

    private Task<MutationResult> SetDoneAsync(string kind, string itemId, bool done, MutationOptions? options) =>
        MutateAsync(kind, options, () =>
        {
            var index = IndexOf(itemId);
            var updated = State.Items[index] with { Done = done };
            State.Items[index] = updated;
            return new Draft(done ? ListChangeKind.ItemCompleted : ListChangeKind.ItemReopened, updated, updated.Id, index);
        });

    private async Task<MutationResult> MutateAsync(string kind, MutationOptions? options, Func<Draft> apply)
    {
        var operationId = options?.OperationId;
        if (operationId is not null && (operationId.Length == 0 || operationId.Length > _limits.MaxOperationIdLength))
        {
            throw Fail(kind, new InvalidRequestException(nameof(MutationOptions.OperationId), $"must be 1-{_limits.MaxOperationIdLength} characters"));
        }

        if (operationId is not null && State.Operations.FindLast(o => o.Id == operationId) is { } earlier)
        {
            // A retry must be the same mutation by the same caller; anything else reusing the id is a mistake
            // that would otherwise be silently swallowed.
            if (earlier.Kind != kind || earlier.By != CallerContext.Principal)
            {
                throw Fail(kind, new InvalidRequestException(nameof(MutationOptions.OperationId),
                    $"'{operationId}' was already used for another operation on this list; use a new id for a new operation"));
            }

            GroundworkMetrics.IdempotentReplays.Add(1, new KeyValuePair<string, object?>("block", Block));
            GroundworkMetrics.Operation(Block, kind, "replayed");
            return earlier.Result with { Replayed = true };
        }

        Draft draft;
        try
        {
            if (kind != "create")
            {
                EnsureCreated();
            }

            if (options?.ExpectedVersion is { } expected && expected != State.Version)
            {
                throw new VersionConflictException(this.GetPrimaryKeyString(), expected, State.Version);
            }

            // Validation happens inside apply before anything changes: a refused mutation leaves the state as it was.
            draft = apply();
        }
        catch (GroundworkException error)
        {
            throw Fail(kind, error);
        }

        var now = time.GetUtcNow();
        var version = State.Version + 1;
        State.Version = version;
        State.Changes.Add(new ListChange(version, draft.Kind, now, CallerContext.Principal, draft.Item, draft.ItemId, draft.Position, draft.Title, draft.RemovedItemIds));
        if (State.Changes.Count > _limits.FeedRetention)
        {
            State.Changes.RemoveRange(0, State.Changes.Count - _limits.FeedRetention);
        }

        var result = new MutationResult(version, draft.ItemId, draft.Count);
        if (operationId is not null)
        {
            State.Operations.Add(new OperationRecord(operationId, now, result, kind, CallerContext.Principal));
            OperationLog.Trim(State.Operations, now, _limits);
        }

        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception exception)
        {
            // What is in memory was never stored: drop this activation so the next call starts from storage.
            LogWriteFailed(logger, exception, this.GetPrimaryKeyString(), kind);
            GroundworkMetrics.Operation(Block, kind, "storage-error");
            _deactivating = true;
            _changed.TrySetResult();
            DeactivateOnIdle();
            throw;
        }

        _durableVersion = version;
        var signal = _changed;
        _changed = NewSignal();
        signal.TrySetResult();
        GroundworkMetrics.Operation(Block, kind, "ok");

        if (!State.Listed && !_registering)
        {
            // Not awaited: the mutation is stored and answered now. The directory reads the entry back from this
            // list (with the caller's credential, which the call carries), after this turn has ended.
            _ = ListInDirectoryAsync();
        }

        return result;
    }

    /// <summary>The title or access changed: the directory entry must be refreshed.</summary>
    private void MarkUnlisted()
    {
        State.Listed = false;
        _directoryEpoch++;
    }

    /// <summary>
    /// One registration at a time; if the title or access changed while it was under way, one more, so the directory
    /// ends with the latest entry without a registration per mutation.
    /// </summary>
    private async Task ListInDirectoryAsync()
    {
        var key = Key!.Value;
        _registering = true;
        try
        {
            while (true)
            {
                var epoch = _directoryEpoch;
                await GrainFactory.GetTenantDirectory(key.Tenant).RegisterAsync(key.ToString());
                if (epoch == _directoryEpoch)
                {
                    State.Listed = true;
                    return;
                }
            }
        }
        catch (Exception exception)
        {
            // The list itself is stored; the directory catches up after the next mutation.
            LogDirectoryFailed(logger, exception, key.ToString());
        }
        finally
        {
            _registering = false;
        }
    }

    private static GroundworkException Fail(string kind, GroundworkException error)
    {
        GroundworkMetrics.Operation(Block, kind, error switch
        {
            VersionConflictException => "conflict",
            LimitExceededException => "limit",
            NotFoundException => "not-found",
            _ => "invalid",
        });
        return error;
    }

    private void EnsureCreated()
    {
        if (!State.Created)
        {
            throw new NotFoundException(ResourceKinds.List, this.GetPrimaryKeyString());
        }
    }

    private int IndexOf(string itemId)
    {
        var index = itemId is null ? -1 : State.Items.FindIndex(i => i.Id == itemId);
        return index >= 0 ? index : throw new NotFoundException("item", itemId ?? "");
    }

    private void ValidateTitle(string title)
    {
        if (string.IsNullOrWhiteSpace(title))
        {
            throw new InvalidRequestException(nameof(title), "must not be empty");
        }

        if (title.Length > _limits.MaxTitleLength)
        {
            throw new LimitExceededException("Lists:MaxTitleLength", _limits.MaxTitleLength, title.Length);
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
            throw new LimitExceededException("Lists:MaxItemTitleLength", _limits.MaxItemTitleLength, title.Length);
        }
    }

    private void ValidateNotes(string? notes)
    {
        if (notes is not null && notes.Length > _limits.MaxNotesLength)
        {
            throw new LimitExceededException("Lists:MaxNotesLength", _limits.MaxNotesLength, notes.Length);
        }
    }

    private static void ValidateAssignee(string? assignee)
    {
        if (assignee is not null)
        {
            Principal.Validate(assignee, nameof(assignee));
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Warning, Message = "List {Key}: storing '{Kind}' failed; the activation restarts from storage")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string key, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "List {Key}: recording it in the tenant directory failed; retried after the next change")]
    private static partial void LogDirectoryFailed(ILogger logger, Exception exception, string key);

    /// <summary>What a mutation changed, before it gets its sequence number.</summary>
    private sealed record Draft(
        ListChangeKind Kind,
        ListItem? Item = null,
        string? ItemId = null,
        int? Position = null,
        string? Title = null,
        IReadOnlyList<string>? RemovedItemIds = null,
        int Count = 1);
}

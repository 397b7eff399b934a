using Groundwork.Access;
using Groundwork.Grains.Access;
using Groundwork.Grains.Storage;
using Groundwork.Tenants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Groundwork.Grains.Tenants;

/// <summary>The stored state of a tenant directory as the release before the kit wrote it (one object); read once to import it.</summary>
internal sealed class LegacyDirectoryState
{
    public Dictionary<string, ResourceSummary> Entries { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The head of a directory's stored state: how many entries its rows hold.</summary>
internal sealed class DirectoryHead
{
    public int Entries { get; set; }
}

/// <summary>
/// The resources of one tenant. Entries come from the resources themselves (never from the caller's word), and each
/// caller sees only the resources it may read. Each entry is one row of the resource store; registrations that arrive
/// together (they interleave while each reads its resource's summary) are written in one commit, so one directory
/// keeps up with thousands of creations a second.
/// </summary>
public sealed class TenantDirectoryGrain(
    IResourceStore store,
    JsonStateSerializer serializer,
    [FromKeyedServices(StorageNames.Provider)] IGrainStorage legacyStorage,
    IOptions<TenantOptions> options)
    : TenantScopedGrain, ITenantDirectoryGrain
{
    private const string Entries = "entries";

    private readonly int _maxEntries = options.Value.MaxDirectoryEntries;
    private readonly Dictionary<string, ResourceSummary> _entries = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _countByKind = new(StringComparer.Ordinal);
    // Places held for resources being created: their kind and until when.
    private readonly Dictionary<string, (string Kind, DateTimeOffset Until)> _reserved = new(StringComparer.Ordinal);
    private long? _etag;
    private Task? _flushing;
    private Task? _queued;

    /// <inheritdoc/>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (KeyError is not null)
        {
            return;
        }

        if (await store.ReadHeadAsync(StorageNames.Directory, this.GetGrainId()) is { } head)
        {
            _etag = head.ETag;
            foreach (var row in await store.ReadRowsAsync(StorageNames.Directory, this.GetGrainId(), Entries))
            {
                Add(row.Key, JsonStateSerializer.FromUtf8<ResourceSummary>(row.Payload));
            }

            return;
        }

        var legacy = new GrainState<LegacyDirectoryState>();
        await legacyStorage.ReadStateAsync(StorageNames.Directory, this.GetGrainId(), legacy);
        foreach (var (key, summary) in legacy.State?.Entries ?? [])
        {
            Add(key, summary);
            _dirty.Add(key);
        }
    }

    /// <inheritdoc/>
    public Task ReserveAsync(string key, int maxOfKind)
    {
        var resourceKey = ResourceKey.Parse(key);
        if (resourceKey.Tenant != Tenant)
        {
            throw new InvalidRequestException(nameof(key), $"'{key}' is not a resource of tenant '{Tenant}'");
        }

        if (_entries.ContainsKey(key))
        {
            return Task.CompletedTask;
        }

        var now = DateTimeOffset.UtcNow;
        foreach (var (held, (_, until)) in _reserved.ToList())
        {
            if (until <= now)
            {
                _reserved.Remove(held);
            }
        }

        var kind = resourceKey.Kind;
        var count = _countByKind.GetValueOrDefault(kind) + _reserved.Count(r => r.Value.Kind == kind && r.Key != key);
        if (count >= maxOfKind)
        {
            throw new LimitExceededException($"{Resources.ResourceBlocks.LimitPrefix(ResourceKinds.BlockOf(kind))}:{nameof(Resources.ResourceOptions.MaxPerTenant)}", maxOfKind, count + 1);
        }

        var total = _entries.Count + _reserved.Count(r => r.Key != key);
        if (total >= _maxEntries)
        {
            throw new LimitExceededException($"Tenants:{nameof(TenantOptions.MaxDirectoryEntries)}", _maxEntries, total + 1);
        }

        _reserved[key] = (kind, now + TimeSpan.FromMinutes(1));
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task RegisterAsync(string key)
    {
        var resourceKey = ResourceKey.Parse(key);
        if (resourceKey.Tenant != Tenant)
        {
            throw new InvalidRequestException(nameof(key), $"'{key}' is not a resource of tenant '{Tenant}'");
        }

        var summary = await GrainFactory.GetDirectoryResource(resourceKey).GetSummaryAsync();
        if (_entries.TryGetValue(key, out var existing) && SameAs(existing, summary))
        {
            // Recorded already; if that record is still being written, wait for it.
            await (_dirty.Contains(key) ? FlushAsync() : _queued ?? _flushing ?? Task.CompletedTask);
            return;
        }

        if (existing is null && !_reserved.ContainsKey(key) && _entries.Count + _reserved.Count >= _maxEntries)
        {
            throw new LimitExceededException($"Tenants:{nameof(TenantOptions.MaxDirectoryEntries)}", _maxEntries, _entries.Count + 1);
        }

        _reserved.Remove(key);
        Add(key, summary);
        _dirty.Add(key);
        await FlushAsync();
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ResourceEntry>> ListAsync(string? kind = null)
    {
        var caller = CallerContext.Current;
        IReadOnlyList<ResourceEntry> result = _entries.Values
            .Where(e => kind is null || e.Entry.Kind == kind)
            .Where(e => caller is null || AccessPolicy.Check(caller, Requirement.Read, Tenant!, e.Access) is null)
            .Select(e => e.Entry)
            .OrderBy(e => e.Key, StringComparer.Ordinal)
            .ToList();
        return Task.FromResult(result);
    }

    private void Add(string key, ResourceSummary summary)
    {
        if (_entries.TryAdd(key, summary))
        {
            _countByKind[summary.Entry.Kind] = _countByKind.GetValueOrDefault(summary.Entry.Kind) + 1;
        }
        else
        {
            _entries[key] = summary;
        }
    }

    private static bool SameAs(ResourceSummary a, ResourceSummary b) =>
        a.Entry == b.Entry && a.Access.Owner == b.Access.Owner && a.Access.TenantReadable == b.Access.TenantReadable &&
        a.Access.Editors.SequenceEqual(b.Access.Editors) && a.Access.Viewers.SequenceEqual(b.Access.Viewers);

    /// <summary>
    /// The commit that will hold what is dirty now: the one queued behind the commit under way, so registrations
    /// arriving meanwhile share it (group commit within the grain).
    /// </summary>
    private Task FlushAsync() => _queued ??= FlushAfterAsync(_flushing);

    private async Task FlushAfterAsync(Task? previous)
    {
        if (previous is null)
        {
            // Let the registrations already under way in this activation join this commit.
            await Task.Yield();
        }
        else
        {
            try
            {
                await previous;
            }
            catch (Exception)
            {
                // That commit failed and its callers heard so; this one writes its own entries.
            }
        }

        _queued = null;
        var rows = _dirty.Select(k => new RowChange(Entries, k, serializer.ToUtf8(_entries[k]))).ToList();
        _dirty.Clear();
        var head = serializer.ToUtf8(new DirectoryHead { Entries = _entries.Count });
        var commit = store.CommitAsync(StorageNames.Directory, this.GetGrainId(), _etag, head, rows);
        _flushing = commit;
        try
        {
            _etag = await commit;
        }
        catch
        {
            // What is in memory was never stored: start again from storage.
            DeactivateOnIdle();
            throw;
        }
        finally
        {
            if (_flushing == commit)
            {
                _flushing = null;
            }
        }
    }
}

using Groundwork.Grains.Storage;

namespace Groundwork.Grains.Resources;

/// <summary>What the resource core asks of a chunk set when it commits.</summary>
internal interface IChunkSet
{
    /// <summary>The collection's name in storage.</summary>
    string Collection { get; }

    /// <summary>The rows to write (changed chunks) and delete (removed ones) in the next commit.</summary>
    void CollectChanges(List<RowChange> rows, JsonStateSerializer serializer);

    /// <summary>The commit is durable: nothing is pending any more.</summary>
    void Committed();

    /// <summary>Everything loaded is to be written by the next commit (an imported state).</summary>
    void MarkAllDirty();
}

/// <summary>
/// One collection of a resource's chunks (pages of items, segments of messages, tiles of a sheet): loaded on demand,
/// at most <see cref="ResourceOptions.MaxLoadedChunks"/> kept in memory (least recently used clean ones dropped
/// first), and only the ones put or removed since the last commit written with the next one.
/// </summary>
/// <typeparam name="TChunk">The chunk type, stored as JSON.</typeparam>
public sealed class ChunkSet<TChunk> : IChunkSet where TChunk : class
{
    private readonly IResourceStore _store;
    private readonly string _stateName;
    private readonly GrainId _grainId;
    private readonly int _maxLoaded;
    private Dictionary<string, LinkedListNode<(string Id, TChunk Chunk)>>? _loadedById;
    private LinkedList<(string Id, TChunk Chunk)>? _recentlyUsed;
    // Made on the first change and kept for the next ones: most loaded resources are idle, and one never changed since
    // its activation holds neither.
    private HashSet<string>? _dirty;
    private HashSet<string>? _removed;

    internal ChunkSet(string collection, IResourceStore store, string stateName, GrainId grainId, int maxLoaded)
    {
        Collection = collection;
        _store = store;
        _stateName = stateName;
        _grainId = grainId;
        _maxLoaded = maxLoaded;
    }

    /// <summary>The collection's name in storage.</summary>
    public string Collection { get; }

    // Made with the first chunk: a resource with none (an empty list) holds neither.
    private Dictionary<string, LinkedListNode<(string Id, TChunk Chunk)>> Loaded => _loadedById ??= new(StringComparer.Ordinal);

    private LinkedList<(string Id, TChunk Chunk)> Recent => _recentlyUsed ??= new();

    /// <summary>Chunks in memory now.</summary>
    public int LoadedCount => _loadedById?.Count ?? 0;

    /// <summary>The chunk <paramref name="id"/>, from memory or storage; null if there is none.</summary>
    public async ValueTask<TChunk?> GetAsync(string id)
    {
        if (Loaded.TryGetValue(id, out var node))
        {
            Touch(node);
            return node.Value.Chunk;
        }

        if (_removed?.Contains(id) == true)
        {
            return null;
        }

        var payload = await _store.ReadRowAsync(_stateName, _grainId, Collection, id);
        if (payload is null)
        {
            return null;
        }

        // Loaded while awaiting (grain calls interleave only at awaits): keep the one in memory, it may be newer.
        if (Loaded.TryGetValue(id, out node))
        {
            return node.Value.Chunk;
        }

        var chunk = JsonStateSerializer.FromUtf8<TChunk>(payload);
        Remember(id, chunk);
        return chunk;
    }

    /// <summary>Every stored chunk with the ones changed in memory, ordered by id; loads them all, whatever the bound.</summary>
    public async Task<IReadOnlyList<(string Id, TChunk Chunk)>> LoadAllAsync()
    {
        foreach (var row in await _store.ReadRowsAsync(_stateName, _grainId, Collection))
        {
            if (!Loaded.ContainsKey(row.Key) && _removed?.Contains(row.Key) != true)
            {
                Remember(row.Key, JsonStateSerializer.FromUtf8<TChunk>(row.Payload), evict: false);
            }
        }

        return [.. Loaded.Values.Select(n => n.Value).OrderBy(c => c.Id, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Every stored chunk, ordered by id, read without keeping them: for a block that builds its own model from them
    /// at activation (a workbook's tiles). Chunks put or removed since the last commit are not reflected.
    /// </summary>
    public async Task<IReadOnlyList<(string Id, TChunk Chunk)>> ReadAllAsync()
    {
        var rows = await _store.ReadRowsAsync(_stateName, _grainId, Collection);
        var chunks = new (string Id, TChunk Chunk)[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            chunks[i] = (rows[i].Key, JsonStateSerializer.FromUtf8<TChunk>(rows[i].Payload));
        }

        Array.Sort(chunks, (a, b) => string.CompareOrdinal(a.Id, b.Id));
        return chunks;
    }

    /// <summary>Sets chunk <paramref name="id"/> (new or changed): written by the next commit.</summary>
    public void Put(string id, TChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        _removed?.Remove(id);
        (_dirty ??= new(StringComparer.Ordinal)).Add(id);
        if (Loaded.TryGetValue(id, out var node))
        {
            node.Value = (id, chunk);
            Touch(node);
        }
        else
        {
            Remember(id, chunk);
        }
    }

    /// <summary>Removes chunk <paramref name="id"/>: deleted by the next commit.</summary>
    public void Remove(string id)
    {
        _dirty?.Remove(id);
        (_removed ??= new(StringComparer.Ordinal)).Add(id);
        if (_loadedById?.Remove(id, out var node) == true)
        {
            Recent.Remove(node);
        }
    }

    void IChunkSet.CollectChanges(List<RowChange> rows, JsonStateSerializer serializer)
    {
        foreach (var id in _dirty ?? [])
        {
            rows.Add(new RowChange(Collection, id, serializer.ToUtf8(Loaded[id].Value.Chunk)));
        }

        foreach (var id in _removed ?? [])
        {
            rows.Add(new RowChange(Collection, id, null));
        }
    }

    void IChunkSet.Committed()
    {
        _dirty?.Clear();
        _removed?.Clear();
        Evict();
    }

    void IChunkSet.MarkAllDirty()
    {
        foreach (var id in Loaded.Keys)
        {
            (_dirty ??= new(StringComparer.Ordinal)).Add(id);
        }
    }

    private void Remember(string id, TChunk chunk, bool evict = true)
    {
        Loaded[id] = Recent.AddFirst((id, chunk));
        if (evict)
        {
            Evict();
        }
    }

    private void Touch(LinkedListNode<(string Id, TChunk Chunk)> node)
    {
        Recent.Remove(node);
        Recent.AddFirst(node);
    }

    /// <summary>Drops the least recently used clean chunks past the bound (a dirty one stays until its commit).</summary>
    private void Evict()
    {
        for (var node = _recentlyUsed?.Last; node is not null && Loaded.Count > _maxLoaded;)
        {
            var previous = node.Previous;
            if (_dirty?.Contains(node.Value.Id) != true)
            {
                Loaded.Remove(node.Value.Id);
                Recent.Remove(node);
            }

            node = previous;
        }
    }
}

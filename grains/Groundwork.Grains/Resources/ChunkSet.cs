using Groundwork.Grains.Storage;

namespace Groundwork.Grains.Resources;

/// <summary>What the resource core asks of a chunk set when it commits.</summary>
internal interface IChunkSet
{
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
    private readonly Func<string, Task<byte[]?>> _readOne;
    private readonly Func<Task<IReadOnlyList<StoredRow>>> _readAll;
    private readonly int _maxLoaded;
    private readonly Dictionary<string, LinkedListNode<(string Id, TChunk Chunk)>> _loaded = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Id, TChunk Chunk)> _recent = new();
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly HashSet<string> _removed = new(StringComparer.Ordinal);

    internal ChunkSet(string collection, Func<string, Task<byte[]?>> readOne, Func<Task<IReadOnlyList<StoredRow>>> readAll, int maxLoaded)
    {
        Collection = collection;
        _readOne = readOne;
        _readAll = readAll;
        _maxLoaded = maxLoaded;
    }

    /// <summary>The collection's name in storage.</summary>
    public string Collection { get; }

    /// <summary>Chunks in memory now.</summary>
    public int LoadedCount => _loaded.Count;

    /// <summary>The chunk <paramref name="id"/>, from memory or storage; null if there is none.</summary>
    public async ValueTask<TChunk?> GetAsync(string id)
    {
        if (_loaded.TryGetValue(id, out var node))
        {
            Touch(node);
            return node.Value.Chunk;
        }

        if (_removed.Contains(id))
        {
            return null;
        }

        var payload = await _readOne(id);
        if (payload is null)
        {
            return null;
        }

        // Loaded while awaiting (grain calls interleave only at awaits): keep the one in memory, it may be newer.
        if (_loaded.TryGetValue(id, out node))
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
        foreach (var row in await _readAll())
        {
            if (!_loaded.ContainsKey(row.Key) && !_removed.Contains(row.Key))
            {
                Remember(row.Key, JsonStateSerializer.FromUtf8<TChunk>(row.Payload), evict: false);
            }
        }

        return [.. _loaded.Values.Select(n => n.Value).OrderBy(c => c.Id, StringComparer.Ordinal)];
    }

    /// <summary>Sets chunk <paramref name="id"/> (new or changed): written by the next commit.</summary>
    public void Put(string id, TChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        _removed.Remove(id);
        _dirty.Add(id);
        if (_loaded.TryGetValue(id, out var node))
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
        _dirty.Remove(id);
        _removed.Add(id);
        if (_loaded.Remove(id, out var node))
        {
            _recent.Remove(node);
        }
    }

    void IChunkSet.CollectChanges(List<RowChange> rows, JsonStateSerializer serializer)
    {
        foreach (var id in _dirty)
        {
            rows.Add(new RowChange(Collection, id, serializer.ToUtf8(_loaded[id].Value.Chunk)));
        }

        foreach (var id in _removed)
        {
            rows.Add(new RowChange(Collection, id, null));
        }
    }

    void IChunkSet.Committed()
    {
        _dirty.Clear();
        _removed.Clear();
        Evict();
    }

    void IChunkSet.MarkAllDirty()
    {
        foreach (var id in _loaded.Keys)
        {
            _dirty.Add(id);
        }
    }

    private void Remember(string id, TChunk chunk, bool evict = true)
    {
        _loaded[id] = _recent.AddFirst((id, chunk));
        if (evict)
        {
            Evict();
        }
    }

    private void Touch(LinkedListNode<(string Id, TChunk Chunk)> node)
    {
        _recent.Remove(node);
        _recent.AddFirst(node);
    }

    /// <summary>Drops the least recently used clean chunks past the bound (a dirty one stays until its commit).</summary>
    private void Evict()
    {
        for (var node = _recent.Last; node is not null && _loaded.Count > _maxLoaded;)
        {
            var previous = node.Previous;
            if (!_dirty.Contains(node.Value.Id))
            {
                _loaded.Remove(node.Value.Id);
                _recent.Remove(node);
            }

            node = previous;
        }
    }
}

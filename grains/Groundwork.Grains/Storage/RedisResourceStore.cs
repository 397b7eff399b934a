using System.Diagnostics;
using System.Globalization;
using Groundwork.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Orleans.Storage;
using StackExchange.Redis;

namespace Groundwork.Grains.Storage;

/// <summary>
/// The resource store in Redis: the head is a hash (<c>e</c> ETag, <c>p</c> payload) and each collection a hash of
/// rows, all under one hash tag per resource so a cluster keeps them in one slot. A commit is one Lua script: it
/// checks the ETag and writes the head and the changed rows, or writes nothing.
/// </summary>
public sealed partial class RedisResourceStore(RedisStorageSettings settings, ILogger<RedisResourceStore> logger) : IResourceStore, IDisposable
{
    private const string CommitScript = """
        local stored = redis.call('HGET', KEYS[1], 'e')
        if stored == false then stored = '' end
        if stored ~= ARGV[1] then return {0, stored} end
        local nxt = tostring((tonumber(ARGV[1]) or 0) + 1)
        redis.call('HSET', KEYS[1], 'e', nxt, 'p', ARGV[2])
        local i = 3
        while i <= #ARGV do
          local key = KEYS[tonumber(ARGV[i])]
          if ARGV[i + 1] == 'd' then
            redis.call('HDEL', key, ARGV[i + 2])
            i = i + 3
          else
            redis.call('HSET', key, ARGV[i + 2], ARGV[i + 3])
            i = i + 4
          end
        end
        return {1, nxt}
        """;

    private readonly Lazy<Task<ConnectionMultiplexer>> _connection = new(() => ConnectionMultiplexer.ConnectAsync(settings.ToConfigurationOptions()));

    /// <inheritdoc/>
    public Task<StoredHead?> ReadHeadAsync(string stateName, GrainId grainId) => Guard("read", grainId, async db =>
    {
        var values = await db.HashGetAsync(HeadKey(stateName, grainId), ["e", "p"]);
        return values[0].IsNull ? (StoredHead?)null : new StoredHead((byte[])values[1]!, long.Parse(values[0].ToString(), CultureInfo.InvariantCulture));
    });

    /// <inheritdoc/>
    public Task<IReadOnlyList<StoredRow>> ReadRowsAsync(string stateName, GrainId grainId, string collection) => Guard("read", grainId, async db =>
    {
        var entries = await db.HashGetAllAsync(RowsKey(stateName, grainId, collection));
        IReadOnlyList<StoredRow> rows = [.. entries.Select(e => new StoredRow(e.Name.ToString(), (byte[])e.Value!)).OrderBy(r => r.Key, StringComparer.Ordinal)];
        return rows;
    });

    /// <inheritdoc/>
    public Task<byte[]?> ReadRowAsync(string stateName, GrainId grainId, string collection, string key) => Guard("read", grainId, async db =>
    {
        var value = await db.HashGetAsync(RowsKey(stateName, grainId, collection), key);
        return value.IsNull ? null : (byte[]?)value;
    });

    /// <inheritdoc/>
    public Task<long> CommitAsync(string stateName, GrainId grainId, long? expectedETag, byte[] head, IReadOnlyList<RowChange> rows) => Guard("write", grainId, async db =>
    {
        ArgumentNullException.ThrowIfNull(rows);
        var keys = new List<RedisKey> { HeadKey(stateName, grainId) };
        var collections = new Dictionary<string, int>(StringComparer.Ordinal);
        var args = new List<RedisValue> { expectedETag?.ToString(CultureInfo.InvariantCulture) ?? "", head };
        foreach (var row in rows)
        {
            if (!collections.TryGetValue(row.Collection, out var index))
            {
                keys.Add(RowsKey(stateName, grainId, row.Collection));
                index = keys.Count;
                collections[row.Collection] = index;
            }

            args.Add(index);
            if (row.Payload is null)
            {
                args.Add("d");
                args.Add(row.Key);
            }
            else
            {
                args.Add("s");
                args.Add(row.Key);
                args.Add(row.Payload);
            }
        }

        var result = (RedisResult[])(await db.ScriptEvaluateAsync(CommitScript, [.. keys], [.. args]))!;
        if ((long)result[0] == 1)
        {
            return long.Parse(result[1].ToString(), CultureInfo.InvariantCulture);
        }

        var stored = result[1].ToString() is { Length: > 0 } text ? text : "none";
        var expected = expectedETag?.ToString(CultureInfo.InvariantCulture) ?? "none";
        throw new InconsistentStateException($"Stale write of state '{stateName}' for {grainId}: written with ETag '{expected}', stored ETag is '{stored}'.", stored, expected);
    });

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_connection.IsValueCreated && _connection.Value.IsCompletedSuccessfully)
        {
            _connection.Value.Result.Dispose();
        }
    }

    private static RedisKey HeadKey(string stateName, GrainId grainId) => $"gw:{{{stateName}/{grainId}}}:head";

    private static RedisKey RowsKey(string stateName, GrainId grainId, string collection) => $"gw:{{{stateName}/{grainId}}}:rows:{collection}";

    private async Task<T> Guard<T>(string operation, GrainId grainId, Func<IDatabase, Task<T>> call)
    {
        // A span per store operation, a child of the grain call that caused it, as on SQLite.
        using var activity = GroundworkMetrics.ActivitySource.StartActivity($"groundwork.storage.{operation}", ActivityKind.Client);
        activity?.SetTag("db.system.name", "redis");
        activity?.SetTag("db.operation.name", operation);
        activity?.SetTag("groundwork.grain.id", grainId.ToString());
        try
        {
            var connection = await _connection.Value;
            return await call(connection.GetDatabase());
        }
        catch (Exception exception) when (UnavailableStorageGuard.Classify(exception) is { } kind)
        {
            activity?.SetStatus(ActivityStatusCode.Error, kind);
            LogUnavailable(logger, exception, operation, grainId.ToString(), kind);
            throw new StorageUnavailableException("Redis", operation, kind);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Resource store Redis {Operation} of {GrainId} failed: {Kind}; the caller gets StorageUnavailableException")]
    private static partial void LogUnavailable(ILogger logger, Exception exception, string operation, string grainId, string kind);
}

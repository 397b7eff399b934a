using System.Diagnostics;
using System.Globalization;
using Groundwork.Grains.Telemetry;
using Microsoft.Data.Sqlite;
using Orleans.Storage;

namespace Groundwork.Grains.Storage;

/// <summary>
/// Durable state of a resource in pieces: one small head (with the ETag) and rows in named collections (pages of
/// items, feed entries, operation records). A commit writes the head and only the rows that changed, atomically and
/// only if the head's ETag is still the one the writer read, so a stale activation can never overwrite any piece of
/// a newer write.
/// </summary>
public interface IResourceStore
{
    /// <summary>The head of <paramref name="grainId"/>'s state <paramref name="stateName"/>, or null if never committed.</summary>
    Task<StoredHead?> ReadHeadAsync(string stateName, GrainId grainId);

    /// <summary>Every row of one collection, ordered by key (ordinal).</summary>
    Task<IReadOnlyList<StoredRow>> ReadRowsAsync(string stateName, GrainId grainId, string collection);

    /// <summary>One row, or null.</summary>
    Task<byte[]?> ReadRowAsync(string stateName, GrainId grainId, string collection, string key);

    /// <summary>
    /// Writes <paramref name="head"/> and <paramref name="rows"/> (a null payload deletes the row) atomically if the
    /// stored ETag is <paramref name="expectedETag"/> (null: nothing stored yet), and returns the new ETag; acknowledged
    /// only once durable.
    /// </summary>
    /// <exception cref="InconsistentStateException">The stored ETag is another: nothing was written.</exception>
    Task<long> CommitAsync(string stateName, GrainId grainId, long? expectedETag, byte[] head, IReadOnlyList<RowChange> rows);
}

/// <summary>A stored head and its ETag.</summary>
public readonly record struct StoredHead(byte[] Payload, long ETag);

/// <summary>A stored row.</summary>
public readonly record struct StoredRow(string Key, byte[] Payload);

/// <summary>A row to write, or with a null <paramref name="Payload"/>, to delete.</summary>
public readonly record struct RowChange(string Collection, string Key, byte[]? Payload);

/// <summary>The resource store in the SQLite file, committed through its one writer (group commit).</summary>
public sealed class SqliteResourceStore(SqliteGrainStorage storage) : IResourceStore
{
    private SqliteDatabase Database => storage.Database;

    /// <inheritdoc/>
    public Task<StoredHead?> ReadHeadAsync(string stateName, GrainId grainId) =>
        QueryAsync(stateName, grainId, "SELECT payload, etag FROM resource_head WHERE state_name = $s AND grain_id = $g", [], reader =>
        {
            if (!reader.Read())
            {
                return ((StoredHead?)null, 0L);
            }

            var payload = (byte[])reader.GetValue(0);
            return (new StoredHead(payload, reader.GetInt64(1)), payload.Length);
        });

    /// <inheritdoc/>
    public Task<IReadOnlyList<StoredRow>> ReadRowsAsync(string stateName, GrainId grainId, string collection) =>
        QueryAsync(stateName, grainId, "SELECT row_key, payload FROM resource_row WHERE state_name = $s AND grain_id = $g AND collection = $c ORDER BY row_key",
            [("$c", collection)], reader =>
            {
                var rows = new List<StoredRow>();
                long bytes = 0;
                while (reader.Read())
                {
                    var payload = (byte[])reader.GetValue(1);
                    bytes += payload.Length;
                    rows.Add(new StoredRow(reader.GetString(0), payload));
                }

                return ((IReadOnlyList<StoredRow>)rows, bytes);
            });

    /// <inheritdoc/>
    public Task<byte[]?> ReadRowAsync(string stateName, GrainId grainId, string collection, string key) =>
        QueryAsync(stateName, grainId, "SELECT payload FROM resource_row WHERE state_name = $s AND grain_id = $g AND collection = $c AND row_key = $k",
            [("$c", collection), ("$k", key)], reader =>
            {
                var payload = reader.Read() ? (byte[])reader.GetValue(0) : null;
                return (payload, (long)(payload?.Length ?? 0));
            });

    /// <summary>
    /// One read of <paramref name="grainId"/>'s state on a pooled connection, with its span and storage metrics:
    /// <c>$s</c> and <c>$g</c> are bound to the state name and grain id, the rest to <paramref name="parameters"/>;
    /// <paramref name="read"/> returns the result and the bytes it read.
    /// </summary>
    private async Task<T> QueryAsync<T>(string stateName, GrainId grainId, string sql, (string Name, object Value)[] parameters, Func<SqliteDataReader, (T Result, long Bytes)> read)
    {
        await storage.EnsureInitializedAsync();
        var id = grainId.ToString();
        return await Database.ReadAsync(connection =>
        {
            using var activity = SqliteGrainStorage.StartActivity("read", stateName, id);
            var started = Stopwatch.GetTimestamp();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddWithValue("$s", stateName);
            command.Parameters.AddWithValue("$g", id);
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }

            using var reader = command.ExecuteReader();
            var (result, bytes) = read(reader);
            StorageMetrics.Record("read", bytes, started);
            return result;
        });
    }

    /// <inheritdoc/>
    public async Task<long> CommitAsync(string stateName, GrainId grainId, long? expectedETag, byte[] head, IReadOnlyList<RowChange> rows)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(rows);
        await storage.EnsureInitializedAsync();
        var id = grainId.ToString();
        return await Database.WriteAsync(connection => Commit(connection, stateName, id, expectedETag, head, rows));
    }

    private const int RowsPerPut = 8;

    // PutSql[n - 1] writes n rows in one statement: ?1 state name, ?2 grain id, ?3 version, then per row its
    // collection, key and payload.
    private static readonly string[] PutSql = [.. Enumerable.Range(1, RowsPerPut).Select(n =>
        "INSERT INTO resource_row (state_name, grain_id, collection, row_key, version, payload) VALUES " +
        string.Join(", ", Enumerable.Range(0, n).Select(i => $"(?1, ?2, ?{4 + (3 * i)}, ?{5 + (3 * i)}, ?3, ?{6 + (3 * i)})")) +
        " ON CONFLICT (state_name, grain_id, collection, row_key) DO UPDATE SET version = excluded.version, payload = excluded.payload")];

    private static void Put(SqliteConnection connection, string stateName, string grainId, long version, List<RowChange> puts)
    {
        for (var start = 0; start < puts.Count; start += RowsPerPut)
        {
            var count = Math.Min(RowsPerPut, puts.Count - start);
            var statement = RawStatement.For(connection, PutSql[count - 1]).Bind(1, stateName).Bind(2, grainId).Bind(3, version);
            for (var i = 0; i < count; i++)
            {
                var row = puts[start + i];
                statement.Bind(4 + (3 * i), row.Collection).Bind(5 + (3 * i), row.Key).Bind(6 + (3 * i), row.Payload!);
            }

            statement.Execute();
        }

        puts.Clear();
    }

    private static string UpdatedAt() => DateTime.UtcNow.ToString("s", CultureInfo.InvariantCulture);

    private static long Commit(SqliteConnection connection, string stateName, string grainId, long? expected, byte[] head, IReadOnlyList<RowChange> rows)
    {
        using var activity = SqliteGrainStorage.StartActivity("write", stateName, grainId);
        var started = Stopwatch.GetTimestamp();
        // The head first, and only on top of the ETag this writer read: if it does not match, nothing was written.
        var next = (expected ?? 0) + 1;
        long bytes = head.Length;
        var written = expected is null
            ? RawStatement.For(connection, """
                INSERT INTO resource_head (state_name, grain_id, etag, payload, updated_at) VALUES (?1, ?2, 1, ?3, ?4)
                ON CONFLICT (state_name, grain_id) DO NOTHING
                """).Bind(1, stateName).Bind(2, grainId).Bind(3, head).Bind(4, UpdatedAt()).Execute()
            : RawStatement.For(connection, """
                UPDATE resource_head SET etag = ?3, payload = ?4, updated_at = ?5 WHERE state_name = ?1 AND grain_id = ?2 AND etag = ?6
                """).Bind(1, stateName).Bind(2, grainId).Bind(3, next).Bind(4, head).Bind(5, UpdatedAt()).Bind(6, expected.Value).Execute();
        if (written != 1)
        {
            var stored = RawStatement.For(connection, "SELECT etag FROM resource_head WHERE state_name = ?1 AND grain_id = ?2")
                .Bind(1, stateName).Bind(2, grainId).ScalarInt64();
            StorageMetrics.Conflicts.Add(1);
            activity?.SetStatus(ActivityStatusCode.Error, "stale ETag");
            var storedText = stored?.ToString(CultureInfo.InvariantCulture) ?? "none";
            var expectedText = expected?.ToString(CultureInfo.InvariantCulture) ?? "none";
            throw new InconsistentStateException(
                $"Stale write of state '{stateName}' for {grainId}: written with ETag '{expectedText}', stored ETag is '{storedText}'.",
                storedText, expectedText);
        }

        // In the order given; puts go in statements of up to eight rows each, since a statement's fixed cost
        // (binding, stepping, the reader) is most of a small row's. Deletes (rows out of retention) go one by one.
        var puts = new List<RowChange>(rows.Count);
        foreach (var row in rows)
        {
            if (row.Payload is not null)
            {
                bytes += row.Payload.Length;
                puts.Add(row);
                continue;
            }

            Put(connection, stateName, grainId, next, puts);
            RawStatement.For(connection, "DELETE FROM resource_row WHERE state_name = ?1 AND grain_id = ?2 AND collection = ?3 AND row_key = ?4")
                .Bind(1, stateName).Bind(2, grainId).Bind(3, row.Collection).Bind(4, row.Key).Execute();
        }

        Put(connection, stateName, grainId, next, puts);
        activity?.SetTag("groundwork.storage.bytes", bytes);
        StorageMetrics.Record("write", bytes, started);
        return next;
    }
}

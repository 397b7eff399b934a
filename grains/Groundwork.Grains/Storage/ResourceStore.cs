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
    public async Task<StoredHead?> ReadHeadAsync(string stateName, GrainId grainId)
    {
        await storage.EnsureInitializedAsync();
        var id = grainId.ToString();
        return await Database.ReadAsync(connection =>
        {
            using var activity = SqliteGrainStorage.StartActivity("read", stateName, id);
            var started = Stopwatch.GetTimestamp();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT payload, etag FROM resource_head WHERE state_name = $s AND grain_id = $g";
            command.Parameters.AddWithValue("$s", stateName);
            command.Parameters.AddWithValue("$g", id);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return (StoredHead?)null;
            }

            var payload = (byte[])reader.GetValue(0);
            StorageMetrics.Record("read", payload.Length, started);
            return new StoredHead(payload, reader.GetInt64(1));
        });
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<StoredRow>> ReadRowsAsync(string stateName, GrainId grainId, string collection)
    {
        await storage.EnsureInitializedAsync();
        var id = grainId.ToString();
        return await Database.ReadAsync(connection =>
        {
            using var activity = SqliteGrainStorage.StartActivity("read", stateName, id);
            var started = Stopwatch.GetTimestamp();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT row_key, payload FROM resource_row WHERE state_name = $s AND grain_id = $g AND collection = $c ORDER BY row_key";
            command.Parameters.AddWithValue("$s", stateName);
            command.Parameters.AddWithValue("$g", id);
            command.Parameters.AddWithValue("$c", collection);
            using var reader = command.ExecuteReader();
            var rows = new List<StoredRow>();
            long bytes = 0;
            while (reader.Read())
            {
                var payload = (byte[])reader.GetValue(1);
                bytes += payload.Length;
                rows.Add(new StoredRow(reader.GetString(0), payload));
            }

            StorageMetrics.Record("read", bytes, started);
            return (IReadOnlyList<StoredRow>)rows;
        });
    }

    /// <inheritdoc/>
    public async Task<byte[]?> ReadRowAsync(string stateName, GrainId grainId, string collection, string key)
    {
        await storage.EnsureInitializedAsync();
        var id = grainId.ToString();
        return await Database.ReadAsync(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT payload FROM resource_row WHERE state_name = $s AND grain_id = $g AND collection = $c AND row_key = $k";
            command.Parameters.AddWithValue("$s", stateName);
            command.Parameters.AddWithValue("$g", id);
            command.Parameters.AddWithValue("$c", collection);
            command.Parameters.AddWithValue("$k", key);
            return command.ExecuteScalar() as byte[];
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

    private static long Commit(SqliteConnection connection, string stateName, string grainId, long? expected, byte[] head, IReadOnlyList<RowChange> rows)
    {
        using var activity = SqliteGrainStorage.StartActivity("write", stateName, grainId);
        var started = Stopwatch.GetTimestamp();
        long? stored;
        using (var check = connection.CreateCommand())
        {
            check.CommandText = "SELECT etag FROM resource_head WHERE state_name = $s AND grain_id = $g";
            check.Parameters.AddWithValue("$s", stateName);
            check.Parameters.AddWithValue("$g", grainId);
            stored = check.ExecuteScalar() is long value ? value : null;
        }

        if (stored != expected)
        {
            StorageMetrics.Conflicts.Add(1);
            activity?.SetStatus(ActivityStatusCode.Error, "stale ETag");
            var storedText = stored?.ToString(CultureInfo.InvariantCulture) ?? "none";
            var expectedText = expected?.ToString(CultureInfo.InvariantCulture) ?? "none";
            throw new InconsistentStateException(
                $"Stale write of state '{stateName}' for {grainId}: written with ETag '{expectedText}', stored ETag is '{storedText}'.",
                storedText, expectedText);
        }

        var next = (expected ?? 0) + 1;
        long bytes = head.Length;
        using (var write = connection.CreateCommand())
        {
            write.CommandText = """
                INSERT INTO resource_head (state_name, grain_id, etag, payload, updated_at) VALUES ($s, $g, $e, $p, $u)
                ON CONFLICT (state_name, grain_id) DO UPDATE SET etag = excluded.etag, payload = excluded.payload, updated_at = excluded.updated_at
                """;
            write.Parameters.AddWithValue("$s", stateName);
            write.Parameters.AddWithValue("$g", grainId);
            write.Parameters.AddWithValue("$e", next);
            write.Parameters.AddWithValue("$p", head);
            write.Parameters.AddWithValue("$u", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            write.ExecuteNonQuery();
        }

        if (rows.Count > 0)
        {
            using var put = connection.CreateCommand();
            put.CommandText = """
                INSERT INTO resource_row (state_name, grain_id, collection, row_key, version, payload) VALUES ($s, $g, $c, $k, $v, $p)
                ON CONFLICT (state_name, grain_id, collection, row_key) DO UPDATE SET version = excluded.version, payload = excluded.payload
                """;
            var putCollection = put.Parameters.Add("$c", SqliteType.Text);
            var putKey = put.Parameters.Add("$k", SqliteType.Text);
            var putPayload = put.Parameters.Add("$p", SqliteType.Blob);
            put.Parameters.AddWithValue("$s", stateName);
            put.Parameters.AddWithValue("$g", grainId);
            put.Parameters.AddWithValue("$v", next);
            using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM resource_row WHERE state_name = $s AND grain_id = $g AND collection = $c AND row_key = $k";
            var deleteCollection = delete.Parameters.Add("$c", SqliteType.Text);
            var deleteKey = delete.Parameters.Add("$k", SqliteType.Text);
            delete.Parameters.AddWithValue("$s", stateName);
            delete.Parameters.AddWithValue("$g", grainId);
            foreach (var row in rows)
            {
                if (row.Payload is null)
                {
                    deleteCollection.Value = row.Collection;
                    deleteKey.Value = row.Key;
                    delete.ExecuteNonQuery();
                }
                else
                {
                    putCollection.Value = row.Collection;
                    putKey.Value = row.Key;
                    putPayload.Value = row.Payload;
                    bytes += row.Payload.Length;
                    put.ExecuteNonQuery();
                }
            }
        }

        activity?.SetTag("groundwork.storage.bytes", bytes);
        StorageMetrics.Record("write", bytes, started);
        return next;
    }
}

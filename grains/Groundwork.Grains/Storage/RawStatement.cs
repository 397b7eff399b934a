using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Groundwork.Grains.Storage;

/// <summary>
/// A statement compiled once for one connection and bound by position with SQLite's own API: the writer's hot path.
/// For the small rows of a commit, Microsoft.Data.Sqlite's parameter objects and statement bookkeeping cost more than
/// SQLite's work (measured: 40 µs of writer time per mutation, most of it there). Only for a connection one thread
/// uses at a time, such as the writer's; parameters are numbered (<c>?1</c>, <c>?2</c>, ...).
/// </summary>
internal sealed class RawStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    private RawStatement(sqlite3 db, string sql)
    {
        _db = db;
        Check(raw.sqlite3_prepare_v2(db, sql, out _statement));
    }

    /// <summary>The statement for <paramref name="sql"/> on <paramref name="connection"/>, compiled on first use.</summary>
    public static RawStatement For(SqliteConnection connection, string sql)
    {
        var cache = Cache.GetValue(connection, static _ => new Dictionary<string, RawStatement>(StringComparer.Ordinal));
        if (!cache.TryGetValue(sql, out var statement))
        {
            statement = new RawStatement(connection.Handle ?? throw new InvalidOperationException("The connection is not open."), sql);
            cache[sql] = statement;
        }

        return statement;
    }

    /// <summary>Finalizes the statements compiled for <paramref name="connection"/> (before it closes).</summary>
    public static void Release(SqliteConnection connection)
    {
        if (Cache.TryGetValue(connection, out var cache))
        {
            foreach (var statement in cache.Values)
            {
                statement.Dispose();
            }

            Cache.Remove(connection);
        }
    }

    public RawStatement Bind(int index, string value)
    {
        Check(raw.sqlite3_bind_text16(_statement, index, value.AsSpan()));
        return this;
    }

    public RawStatement Bind(int index, long value)
    {
        Check(raw.sqlite3_bind_int64(_statement, index, value));
        return this;
    }

    public RawStatement Bind(int index, byte[] value)
    {
        Check(raw.sqlite3_bind_blob(_statement, index, value.AsSpan()));
        return this;
    }

    /// <summary>Runs it to the end; the rows it changed.</summary>
    public int Execute()
    {
        try
        {
            int result;
            while ((result = raw.sqlite3_step(_statement)) == raw.SQLITE_ROW)
            {
            }

            Check(result);
            return raw.sqlite3_changes(_db);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    /// <summary>The first column of the first row as a number, or null when there is no row.</summary>
    public long? ScalarInt64()
    {
        try
        {
            var result = raw.sqlite3_step(_statement);
            if (result == raw.SQLITE_ROW)
            {
                return raw.sqlite3_column_int64(_statement, 0);
            }

            Check(result);
            return null;
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    public void Dispose() => _statement.Dispose();

    private void Check(int result)
    {
        if (result is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW))
        {
            throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), result, raw.sqlite3_extended_errcode(_db));
        }
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SqliteConnection, Dictionary<string, RawStatement>> Cache = new();
}

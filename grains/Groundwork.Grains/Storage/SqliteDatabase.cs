using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Orleans.Storage;

namespace Groundwork.Grains.Storage;

/// <summary>
/// One SQLite file with one writer: every write of the process (grain states and resource commits) is queued to a
/// single connection, which runs all the writes waiting at that moment in one transaction and commits them with one
/// fsync. A write refused for a stale ETag fails alone (writes check their ETag before changing anything); any other
/// failure fails the whole transaction and every write in it. No write is acknowledged before its
/// transaction is durable. Reads use pooled connections beside it (WAL lets readers run while the writer writes).
/// </summary>
/// <remarks>
/// Group commit is what makes many small durable writes cheap: a commit costs one WAL append and one fsync whether it
/// holds one write or hundreds. A busy timeout (<c>PRAGMA busy_timeout</c>) lets SQLite itself wait in short steps for
/// another process holding the lock, instead of Microsoft.Data.Sqlite's 150 ms retry sleep.
/// </remarks>
public sealed class SqliteDatabase : IDisposable
{
    private const int MaxBatch = 512;

    private readonly string _connectionString;
    private readonly int _busyTimeoutMs;
    // A plain queue and a semaphore the writer thread blocks on: a producer's Release wakes it directly, with no
    // thread-pool hop in between.
    private readonly ConcurrentQueue<WorkItem> _queue = new();
    private readonly SemaphoreSlim _waiting = new(0);
    private volatile bool _disposed;
    private readonly Lock _starting = new();
    private Thread? _writer;

    /// <summary>The database at <paramref name="path"/>.</summary>
    public SqliteDatabase(string path, TimeSpan busyTimeout)
    {
        Path = System.IO.Path.GetFullPath(path);
        _busyTimeoutMs = (int)Math.Clamp(busyTimeout.TotalMilliseconds, 0, int.MaxValue);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = (int)Math.Ceiling(busyTimeout.TotalSeconds),
        }.ToString();
    }

    /// <summary>The full path of the file.</summary>
    public string Path { get; }

    /// <summary>Transactions committed (each holding one or more writes); for tests and benchmarks.</summary>
    public long Commits { get; private set; }

    /// <summary>Opens a connection with the busy timeout set.</summary>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA busy_timeout = {_busyTimeoutMs}";
        command.ExecuteNonQuery();
        return connection;
    }

    /// <summary>Runs <paramref name="read"/> on a pooled connection off the caller's thread.</summary>
    public Task<T> ReadAsync<T>(Func<SqliteConnection, T> read) => Task.Run(() =>
    {
        using var connection = Open();
        return read(connection);
    });

    /// <summary>
    /// Queues <paramref name="write"/> to the writer; the task completes once the transaction holding it is durable.
    /// <paramref name="write"/> must throw <see cref="InconsistentStateException"/> only before it changes anything;
    /// that fails it alone. Any other exception fails the whole transaction.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, T> write)
    {
        EnsureWriter();
        var item = new WorkItem<T>(write);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _queue.Enqueue(item);
        _waiting.Release();

        return item.Completion.Task;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _disposed = true;
        _waiting.Release();
        _writer?.Join(TimeSpan.FromSeconds(10));
    }

    private void EnsureWriter()
    {
        if (_writer is not null)
        {
            return;
        }

        lock (_starting)
        {
            _writer ??= StartWriter();
        }
    }

    private Thread StartWriter()
    {
        var thread = new Thread(WriteLoop) { IsBackground = true, Name = "groundwork-sqlite-writer" };
        thread.Start();
        return thread;
    }

    private void WriteLoop()
    {
        SqliteConnection? connection = null;
        var batch = new List<WorkItem>(MaxBatch);
        while (true)
        {
            _waiting.Wait();
            if (_disposed && _queue.IsEmpty)
            {
                break;
            }

            while (batch.Count < MaxBatch && _queue.TryDequeue(out var item))
            {
                batch.Add(item);
            }

            // One permit per item: take the extra ones of the items this batch holds.
            for (var i = 1; i < batch.Count; i++)
            {
                _waiting.Wait();
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                connection ??= Open();
                RunBatch(connection, batch);
            }
            catch (Exception exception)
            {
                // The transaction itself failed (disk full, I/O error, lock timeout): none of its writes is durable.
                foreach (var item in batch)
                {
                    item.Fail(exception);
                }

                connection?.Dispose();
                connection = null;
            }

            batch.Clear();
        }

        connection?.Dispose();
    }

    private void RunBatch(SqliteConnection connection, List<WorkItem> batch)
    {
        Execute(connection, "BEGIN IMMEDIATE");
        var results = new (object? Value, Exception? Error)[batch.Count];
        try
        {
            for (var i = 0; i < batch.Count; i++)
            {
                // A stale ETag fails one write alone: every write checks its ETag before it changes anything, so it
                // needs no savepoint. Anything else means the transaction itself is in doubt, and fails it whole
                // (below): no write of it is acknowledged, and the callers retry.
                try
                {
                    results[i] = (batch[i].Run(connection), null);
                }
                catch (InconsistentStateException stale)
                {
                    results[i] = (null, stale);
                }
            }

            Execute(connection, "COMMIT");
        }
        catch
        {
            if (connection.State == System.Data.ConnectionState.Open)
            {
                try
                {
                    Execute(connection, "ROLLBACK");
                }
                catch (SqliteException)
                {
                    // Already rolled back by SQLite.
                }
            }

            throw;
        }

        Commits++;
        for (var i = 0; i < batch.Count; i++)
        {
            if (results[i].Error is { } error)
            {
                batch[i].Fail(error);
            }
            else
            {
                batch[i].Succeed(results[i].Value);
            }
        }
    }

    private static void Execute(SqliteConnection connection, string sql) => Prepared(connection, sql).ExecuteNonQuery();

    /// <summary>
    /// A command for <paramref name="sql"/> compiled once per connection and reused (SQLite compiles a statement on
    /// every new command otherwise), with its parameters set to <paramref name="parameters"/>. Only for a connection
    /// one thread uses at a time, such as the writer's.
    /// </summary>
    public static SqliteCommand Prepared(SqliteConnection connection, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var cache = Statements.GetOrCreateValue(connection);
        if (!cache.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, _) in parameters)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            cache[sql] = command;
        }

        foreach (var (name, value) in parameters)
        {
            command.Parameters[name].Value = value ?? DBNull.Value;
        }

        return command;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SqliteConnection, Dictionary<string, SqliteCommand>> Statements = new();

    private abstract class WorkItem
    {
        public abstract object? Run(SqliteConnection connection);

        public abstract void Succeed(object? value);

        public abstract void Fail(Exception exception);
    }

    private sealed class WorkItem<T>(Func<SqliteConnection, T> write) : WorkItem
    {
        // The caller's context (its trace span above all), so a write's span is a child of the call that made it.
        private readonly ExecutionContext? _context = ExecutionContext.Capture();

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override object? Run(SqliteConnection connection)
        {
            if (_context is null)
            {
                return write(connection);
            }

            object? result = null;
            ExecutionContext.Run(_context, _ => result = write(connection), null);
            return result;
        }

        public override void Succeed(object? value) => Completion.TrySetResult((T)value!);

        public override void Fail(Exception exception) => Completion.TrySetException(exception);
    }
}

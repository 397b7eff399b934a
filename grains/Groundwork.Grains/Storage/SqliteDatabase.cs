using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Orleans.Storage;

namespace Groundwork.Grains.Storage;

/// <summary>
/// One SQLite file with one writer: every write of the process (grain states and resource commits) is queued to a
/// single connection, which runs all the writes waiting at that moment in one transaction. A write refused for a
/// stale ETag fails alone (writes check their ETag before changing anything); any other failure fails the whole
/// transaction and every write in it. Reads use pooled connections beside it (WAL lets readers run while the writer
/// writes).
/// </summary>
/// <remarks>
/// Group commit is what makes many small durable writes cheap, and it is pipelined: the writer commits a transaction
/// to the log and goes on with the next one, while a second thread makes the log durable with one fsync for every
/// transaction committed since its last, and only then answers their writes. No write is acknowledged before its
/// transaction is durable; the disk's flush and the next batch's statements overlap. A busy timeout
/// (<c>PRAGMA busy_timeout</c>) lets SQLite itself wait in short steps for another process holding the lock, instead
/// of Microsoft.Data.Sqlite's 150 ms retry sleep.
/// </remarks>
public sealed class SqliteDatabase : IDisposable
{
    private const int MaxBatch = 512;

    private readonly string _connectionString;
    private readonly int _busyTimeoutMs;
    private readonly int _walCheckpointPages;
    // Handoffs to the two threads: a producer wakes the thread directly, with no thread-pool hop in between.
    private readonly Handoff<WorkItem> _queue = new();
    private volatile bool _disposed;
    private readonly Lock _starting = new();
    private Thread? _writer;
    private Thread? _syncer;
    private volatile bool _syncing = true;
    private readonly Handoff<Committed> _syncQueue = new();
    // The writer's own handle on the log file, for the fsync that makes its commits durable.
    private FileStream? _log;

    /// <summary>The database <paramref name="options"/> describe (its path, busy timeout and checkpoint interval).</summary>
    public SqliteDatabase(SqliteStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _walCheckpointPages = options.WalCheckpointPages;
        Path = System.IO.Path.GetFullPath(options.Path);
        var busyTimeout = options.BusyTimeout;
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

    /// <summary>How the log is made durable (fsync); replaced by tests to hold a flush and watch what waits for it.</summary>
    internal Action<Microsoft.Win32.SafeHandles.SafeFileHandle> FlushLog { get; set; } = RandomAccess.FlushToDisk;

    /// <summary>Runs on the writer before each transaction; replaced by tests to hold writes before they reach the file.</summary>
    internal Action BeforeTransaction { get; set; } = static () => { };

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

    // Only the writer commits, so only its connection checkpoints.
    private SqliteConnection OpenWriter()
    {
        var connection = Open();
        try
        {
            using var command = connection.CreateCommand();
            // NORMAL: SQLite does not fsync the log at each commit, the sync thread does, before any write of the
            // transaction is answered (so a commit is as durable as with FULL); and SQLite still syncs the log before
            // a checkpoint copies it into the file, and the file after, so a crash never tears the database.
            command.CommandText = $"PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = {_walCheckpointPages}";
            command.ExecuteNonQuery();

            // The log stays the same file while a connection is open (SQLite deletes it only when the last one
            // closes). SQLite created it (0600, like the database) on entering WAL mode.
            _log = new FileStream(Path + "-wal", FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
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
        _queue.Add(item);
        return item.Completion.Task;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _disposed = true;
        _queue.Wake();
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
        _syncer = new Thread(SyncLoop) { IsBackground = true, Name = "groundwork-sqlite-sync" };
        _syncer.Start();
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
            if (!_queue.Take(batch, MaxBatch, () => _disposed))
            {
                break;
            }

            try
            {
                connection ??= OpenWriter();
                BeforeTransaction();
                var results = RunBatch(connection, batch);
                _syncQueue.Add(new Committed([.. batch], results, null));
            }
            catch (Exception exception)
            {
                // The transaction itself failed (disk full, I/O error, lock timeout): none of its writes is durable.
                foreach (var item in batch)
                {
                    item.Fail(exception);
                }

                connection = Reset(connection);
            }

            batch.Clear();
        }

        Reset(connection);
        _syncing = false;
        _syncQueue.Wake();
        _syncer?.Join(TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// Waits until every committed transaction so far has been made durable and answered, then closes the writer's
    /// connection and its handle on the log (which may be deleted once no connection is open).
    /// </summary>
    private SqliteConnection? Reset(SqliteConnection? connection)
    {
        using var drained = new ManualResetEventSlim();
        _syncQueue.Add(new Committed([], [], drained));
        drained.Wait();
        _log?.Dispose();
        _log = null;
        if (connection is not null)
        {
            RawStatement.Release(connection);
            connection.Dispose();
        }

        return null;
    }

    /// <summary>
    /// The second half of group commit, on its own thread: makes the log durable (one fsync for every transaction
    /// committed since the last one) and only then answers their writes. The writer meanwhile runs the next
    /// transaction, so the disk's flush and the statements of the next batch overlap.
    /// </summary>
    private void SyncLoop()
    {
        var done = new List<Committed>();
        while (true)
        {
            if (!_syncQueue.Take(done, int.MaxValue, () => !_syncing))
            {
                break;
            }

            Exception? failed = null;
            if (done.Any(c => c.Items.Length > 0))
            {
                try
                {
                    // The writer opened the handle before queueing these, and closes it only after they are answered.
                    FlushLog(_log!.SafeFileHandle);
                }
                catch (Exception exception)
                {
                    // Committed but maybe not durable: answered as failed, so callers retry with their operation ids.
                    failed = exception;
                }
            }

            foreach (var committed in done)
            {
                committed.Answer(failed);
                if (failed is null && committed.Items.Length > 0)
                {
                    Commits++;
                }
            }

            done.Clear();
        }
    }

    /// <summary>
    /// A queue with one consumer thread that sleeps only while it is empty (no spinning, no permit per item: a
    /// semaphore would make the consumer wait for the release of every item it already took).
    /// </summary>
    private sealed class Handoff<T>
    {
        private readonly ConcurrentQueue<T> _items = new();
        private readonly object _gate = new();
        private int _sleeping;

        public void Add(T item)
        {
            _items.Enqueue(item);
            // Enqueue is a full fence; the consumer marks itself asleep before it looks at the queue a last time.
            if (Volatile.Read(ref _sleeping) == 1)
            {
                Wake();
            }
        }

        public void Wake()
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }

        /// <summary>Moves up to <paramref name="max"/> items into <paramref name="into"/>, waiting for one; false once <paramref name="stop"/> and empty.</summary>
        public bool Take(List<T> into, int max, Func<bool> stop)
        {
            while (true)
            {
                while (into.Count < max && _items.TryDequeue(out var item))
                {
                    into.Add(item);
                }

                if (into.Count > 0)
                {
                    return true;
                }

                if (stop())
                {
                    return false;
                }

                lock (_gate)
                {
                    Interlocked.Exchange(ref _sleeping, 1);
                    if (_items.IsEmpty && !stop())
                    {
                        Monitor.Wait(_gate);
                    }

                    Interlocked.Exchange(ref _sleeping, 0);
                }
            }
        }
    }

    /// <summary>A committed transaction waiting for the log to be durable; with no items, a marker.</summary>
    private sealed record Committed(WorkItem[] Items, (object? Value, Exception? Error)[] Results, ManualResetEventSlim? Drained)
    {
        public void Answer(Exception? failed)
        {
            for (var i = 0; i < Items.Length; i++)
            {
                if ((failed ?? Results[i].Error) is { } error)
                {
                    Items[i].Fail(error);
                }
                else
                {
                    Items[i].Succeed(Results[i].Value);
                }
            }

            Drained?.Set();
        }
    }

    /// <summary>Runs the batch in one transaction and commits it (not yet durable); the result or stale error of each write.</summary>
    private static (object? Value, Exception? Error)[] RunBatch(SqliteConnection connection, List<WorkItem> batch)
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

        return results;
    }

    private static void Execute(SqliteConnection connection, string sql) => RawStatement.For(connection, sql).Execute();

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

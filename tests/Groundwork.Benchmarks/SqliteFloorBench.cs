using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Groundwork.Benchmarks;

/// <summary>
/// The floor for durable writes: SQLite alone on the same disk (a file beside the benchmark's database), WAL with
/// <c>synchronous=FULL</c> (every commit fsynced, as durable as the grain storage's commits), one connection, no
/// Orleans. Single-row transactions, and 64 rows per transaction, with rows of 256 bytes and of 8 KB.
/// </summary>
internal static class SqliteFloorBench
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(3);

    /// <summary>The rows, and the single-row commits per second with 256-byte rows (the first figure).</summary>
    public static (List<string> Rows, double SingleRowCommits) Run()
    {
        var path = Path.Combine(Path.GetTempPath(), $"groundwork-floor-{Guid.NewGuid():n}.db");
        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
            connection.Open();
            Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE row (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)");
            var rows = new List<string>();
            double singleRowCommits = 0;
            foreach (var size in new[] { 256, 8 * 1024 })
            {
                var single = Measure(connection, size, perTransaction: 1);
                singleRowCommits = singleRowCommits == 0 ? single.Rate : singleRowCommits;
                var batched = Measure(connection, size, perTransaction: 64);
                rows.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| floor: SQLite alone, one {Size(size)} row per transaction (WAL, synchronous=FULL, same disk) | {single.Rows:N0} | **{single.Rate:N0} commits/s** | | |"));
                rows.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| floor: SQLite alone, 64 rows of {Size(size)} per transaction (same settings) | {batched.Rows:N0} | **{batched.Rate:N0} rows/s** ({batched.Rate / 64:N0} commits/s) | | |"));
            }

            return (rows, singleRowCommits);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            foreach (var file in new[] { path, path + "-wal", path + "-shm" })
            {
                File.Delete(file);
            }
        }
    }

    private static string Size(int bytes) => bytes >= 1024 ? $"{bytes / 1024} KB" : $"{bytes} B";

    /// <summary>Inserts rows of <paramref name="size"/> bytes, <paramref name="perTransaction"/> per commit, for <see cref="Duration"/>.</summary>
    private static (long Rows, double Rate) Measure(SqliteConnection connection, int size, int perTransaction)
    {
        var payload = new byte[size];
        Random.Shared.NextBytes(payload);
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO row (payload) VALUES ($p)";
        var parameter = insert.Parameters.Add("$p", SqliteType.Blob);
        parameter.Value = payload;
        insert.Prepare();
        long rows = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Duration)
        {
            using var transaction = connection.BeginTransaction();
            insert.Transaction = transaction;
            for (var i = 0; i < perTransaction; i++)
            {
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
            rows += perTransaction;
        }

        return (rows, rows / clock.Elapsed.TotalSeconds);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

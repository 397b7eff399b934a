using System.Text;
using Groundwork.Grains.Storage;
using Groundwork.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Storage;
using Xunit;

namespace Groundwork.Grains.Tests.Storage;

/// <summary>What both resource stores promise: a commit is all or nothing, and only on top of the ETag it read.</summary>
public abstract class ResourceStoreContract
{
    private readonly GrainId Grain = GrainId.Create("list", "t-1/list/" + Guid.NewGuid().ToString("n")[..8]);

    protected abstract IResourceStore Store { get; }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(byte[]? bytes) => bytes is null ? "(none)" : Encoding.UTF8.GetString(bytes);

    [Fact]
    public async Task A_commit_writes_the_head_and_its_rows_and_reads_back()
    {
        var etag = await Store.CommitAsync("list", Grain, null, Bytes("h1"), [new("items", "p1", Bytes("a")), new("items", "p2", Bytes("b")), new("feed", "1", Bytes("c1"))]);
        var head = await Store.ReadHeadAsync("list", Grain);
        Assert.Equal(("h1", etag), (Text(head!.Value.Payload), head.Value.ETag));
        Assert.Equal(["p1:a", "p2:b"], (await Store.ReadRowsAsync("list", Grain, "items")).Select(r => $"{r.Key}:{Text(r.Payload)}"));
        Assert.Equal("b", Text(await Store.ReadRowAsync("list", Grain, "items", "p2")));
        Assert.Null(await Store.ReadRowAsync("list", Grain, "items", "p3"));
        Assert.Null(await Store.ReadHeadAsync("other", Grain));
    }

    [Fact]
    public async Task A_stale_writer_changes_no_piece_of_a_newer_write()
    {
        var first = await Store.CommitAsync("list", Grain, null, Bytes("h1"), [new("items", "p1", Bytes("a1")), new("items", "p2", Bytes("b1"))]);

        // The newer activation commits on top of the first write.
        var second = await Store.CommitAsync("list", Grain, first, Bytes("h2"), [new("items", "p1", Bytes("a2"))]);

        // The stale one still holds the first ETag: its head, its changed row, its new row and its delete all fail.
        var stale = await Assert.ThrowsAsync<InconsistentStateException>(() =>
            Store.CommitAsync("list", Grain, first, Bytes("stale"), [new("items", "p1", Bytes("stale")), new("items", "p3", Bytes("stale")), new("items", "p2", null)]));
        Assert.Contains("Stale write", stale.Message, StringComparison.Ordinal);

        var head = await Store.ReadHeadAsync("list", Grain);
        Assert.Equal(("h2", second), (Text(head!.Value.Payload), head.Value.ETag));
        Assert.Equal(["p1:a2", "p2:b1"], (await Store.ReadRowsAsync("list", Grain, "items")).Select(r => $"{r.Key}:{Text(r.Payload)}"));
    }

    [Fact]
    public async Task Two_first_commits_of_one_resource_the_second_fails()
    {
        await Store.CommitAsync("list", Grain, null, Bytes("first"), [new("items", "p1", Bytes("first"))]);
        await Assert.ThrowsAsync<InconsistentStateException>(() => Store.CommitAsync("list", Grain, null, Bytes("second"), [new("items", "p1", Bytes("second"))]));
        Assert.Equal("first", Text(await Store.ReadRowAsync("list", Grain, "items", "p1")));
    }

    [Fact]
    public async Task A_commit_deletes_the_rows_it_names()
    {
        var etag = await Store.CommitAsync("list", Grain, null, Bytes("h1"), [new("feed", "1", Bytes("c1")), new("feed", "2", Bytes("c2"))]);
        await Store.CommitAsync("list", Grain, etag, Bytes("h2"), [new("feed", "1", null), new("feed", "3", Bytes("c3"))]);
        Assert.Equal(["2", "3"], (await Store.ReadRowsAsync("list", Grain, "feed")).Select(r => r.Key));
    }
}

public sealed class SqliteResourceStoreTests : ResourceStoreContract, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("groundwork-store-").FullName;
    private readonly SqliteGrainStorage _storage;

    public SqliteResourceStoreTests()
    {
        _storage = new SqliteGrainStorage("test", new SqliteStorageOptions { Path = Path.Combine(_folder, "groundwork.db") }, NullLogger<SqliteGrainStorage>.Instance);
        Store = new SqliteResourceStore(_storage);
    }

    protected override IResourceStore Store { get; }

    [Fact]
    public async Task Concurrent_commits_of_many_resources_share_transactions()
    {
        await _storage.EnsureInitializedAsync();
        var before = _storage.Database.Commits;
        await Task.WhenAll(Enumerable.Range(0, 400).Select(i =>
            Store.CommitAsync("list", GrainId.Create("list", $"t-1/list/g{i}"), null, [1], [new("items", "p1", [2])])));
        var commits = _storage.Database.Commits - before;
        Assert.True(commits < 200, $"400 concurrent commits took {commits} transactions");
        Assert.Equal(400, await _storage.Database.ReadAsync(c =>
        {
            using var command = c.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM resource_head";
            return (long)command.ExecuteScalar()!;
        }));
    }

    [Fact]
    public async Task A_commit_is_answered_only_once_the_log_holding_it_is_flushed_to_disk()
    {
        await _storage.EnsureInitializedAsync();
        var grain = GrainId.Create("list", "t-1/list/flushed");
        using var flushing = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim();
        _storage.Database.FlushLog = handle =>
        {
            flushing.Release();
            release.Wait();
            RandomAccess.FlushToDisk(handle);
        };
        try
        {
            var commit = Store.CommitAsync("list", grain, null, [1], [new("items", "p1", [2])]);
            Assert.True(await flushing.WaitAsync(TimeSpan.FromSeconds(10)), "the log was never flushed");

            // Committed to the log (a reader sees it), the flush still under way: not answered yet.
            Assert.NotNull(await Store.ReadHeadAsync("list", grain));
            Assert.False(commit.IsCompleted, "a commit was answered before its log was flushed");

            release.Set();
            Assert.Equal(1, await commit.WaitAsync(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            release.Set();
            _storage.Database.FlushLog = RandomAccess.FlushToDisk;
        }
    }

    [Fact]
    public async Task A_failing_commit_in_a_shared_transaction_leaves_the_others_committed()
    {
        var existing = GrainId.Create("list", "t-1/list/existing");
        await Store.CommitAsync("list", existing, null, [1], []);
        var commits = Enumerable.Range(0, 50).Select(i =>
            Store.CommitAsync("list", i == 25 ? existing : GrainId.Create("list", $"t-1/list/m{i}"), null, [1], [new("items", "p1", [2])])).ToList();
        await Assert.ThrowsAsync<InconsistentStateException>(() => commits[25]);
        await Task.WhenAll(commits.Where((_, i) => i != 25));
        Assert.Equal(49, (await Task.WhenAll(Enumerable.Range(0, 50).Where(i => i != 25)
            .Select(i => Store.ReadRowAsync("list", GrainId.Create("list", $"t-1/list/m{i}"), "items", "p1")))).Count(r => r is not null));
    }

    public void Dispose()
    {
        _storage.Database.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}

public sealed class RedisResourceStoreTests : ResourceStoreContract, IClassFixture<RedisResourceStoreTests.Server>
{
    public RedisResourceStoreTests(Server server)
    {
        ArgumentNullException.ThrowIfNull(server);
        Store = server.Store;
    }

    protected override IResourceStore Store { get; }

    /// <summary>A real redis-server for the class.</summary>
    public sealed class Server : IAsyncLifetime
    {
        private RedisServer? _redis;

        public IResourceStore Store { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            _redis = await RedisServer.StartAsync();
            Store = new RedisResourceStore(new RedisStorageSettings { ConnectionString = _redis.ConnectionString }, NullLogger<RedisResourceStore>.Instance);
        }

        public async Task DisposeAsync()
        {
            ((IDisposable)Store).Dispose();
            if (_redis is not null)
            {
                await _redis.DisposeAsync();
            }
        }
    }
}

using Groundwork.Grains.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Storage;
using Xunit;

namespace Groundwork.Grains.Tests.Storage;

public sealed class SqliteGrainStorageTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "groundwork-storage-tests", Guid.NewGuid().ToString("n"));
    private readonly GrainId _grain = GrainId.Create("test", Guid.NewGuid().ToString("n"));

    private string DatabasePath => Path.Combine(_folder, "nested", "state.db");

    private SqliteGrainStorage NewStorage(int maxStateBytes = 1024 * 1024) =>
        new("test", new SqliteStorageOptions { Path = DatabasePath, MaxStateBytes = maxStateBytes }, NullLogger<SqliteGrainStorage>.Instance);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_written_state_reads_back_equal_with_its_etag()
    {
        var storage = NewStorage();
        var written = new GrainState<Shape>(new Shape { Name = "a", Count = 3, Tags = ["x", "y"], Due = new DateOnly(2026, 1, 2) });
        await storage.WriteStateAsync("s", _grain, written);

        var read = new GrainState<Shape>();
        await storage.ReadStateAsync("s", _grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal(("a", 3, new DateOnly(2026, 1, 2)), (read.State!.Name, read.State!.Count, read.State!.Due));
        Assert.Equal(["x", "y"], read.State!.Tags);
    }

    [Fact]
    public async Task A_missing_state_reads_as_new_without_an_etag()
    {
        var read = new GrainState<Shape>();
        await NewStorage().ReadStateAsync("s", _grain, read);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.NotNull(read.State);
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_throws_and_keeps_the_stored_state()
    {
        var storage = NewStorage();
        var first = new GrainState<Shape>(new Shape { Name = "first" });
        await storage.WriteStateAsync("s", _grain, first);
        var stale = new GrainState<Shape>(new Shape { Name = "stale" }) { ETag = first.ETag };
        first.State!.Name = "second";
        await storage.WriteStateAsync("s", _grain, first);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("s", _grain, stale));
        var read = new GrainState<Shape>();
        await storage.ReadStateAsync("s", _grain, read);
        Assert.Equal("second", read.State!.Name);
    }

    [Fact]
    public async Task Two_first_writes_of_the_same_state_the_second_throws()
    {
        var storage = NewStorage();
        await storage.WriteStateAsync("s", _grain, new GrainState<Shape>(new Shape { Name = "one" }));
        await Assert.ThrowsAsync<InconsistentStateException>(
            () => storage.WriteStateAsync("s", _grain, new GrainState<Shape>(new Shape { Name = "two" })));
    }

    [Fact]
    public async Task State_survives_a_restart_of_the_provider_on_the_same_file()
    {
        var state = new GrainState<Shape>(new Shape { Name = "durable" });
        await NewStorage().WriteStateAsync("s", _grain, state);
        SqliteConnection.ClearAllPools();

        var read = new GrainState<Shape>();
        await NewStorage().ReadStateAsync("s", _grain, read);
        Assert.Equal(("durable", state.ETag), (read.State!.Name, read.ETag));
    }

    [Fact]
    public async Task Renaming_the_state_class_does_not_strand_stored_data()
    {
        var storage = NewStorage();
        await storage.WriteStateAsync("s", _grain, new GrainState<Shape>(new Shape { Name = "kept", Count = 7 }));
        var read = new GrainState<RenamedShape>();
        await storage.ReadStateAsync("s", _grain, read);
        Assert.Equal(("kept", 7), (read.State!.Name, read.State!.Count));
    }

    [Fact]
    public async Task Clearing_removes_the_state_and_a_stale_clear_throws()
    {
        var storage = NewStorage();
        var state = new GrainState<Shape>(new Shape { Name = "x" });
        await storage.WriteStateAsync("s", _grain, state);
        var stale = new GrainState<Shape> { ETag = state.ETag };
        await storage.WriteStateAsync("s", _grain, state);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("s", _grain, stale));

        await storage.ClearStateAsync("s", _grain, state);
        var read = new GrainState<Shape>();
        await storage.ReadStateAsync("s", _grain, read);
        Assert.False(read.RecordExists);
        Assert.Equal(state.ETag, read.ETag);
    }

    [Fact]
    public async Task A_writer_holding_an_etag_from_before_a_clear_cannot_overwrite_the_new_state()
    {
        var storage = NewStorage();
        var original = new GrainState<Shape>(new Shape { Name = "original" });
        await storage.WriteStateAsync("s", _grain, original);
        var stale = new GrainState<Shape>(new Shape { Name = "stale" }) { ETag = original.ETag };

        await storage.ClearStateAsync("s", _grain, original);
        var recreated = new GrainState<Shape>();
        await storage.ReadStateAsync("s", _grain, recreated);
        recreated.State!.Name = "recreated";
        await storage.WriteStateAsync("s", _grain, recreated);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("s", _grain, stale));
        var read = new GrainState<Shape>();
        await storage.ReadStateAsync("s", _grain, read);
        Assert.Equal("recreated", read.State!.Name);
    }

    [Fact]
    public async Task States_of_different_names_and_grains_are_apart()
    {
        var storage = NewStorage();
        var other = GrainId.Create("test", "other-" + Guid.NewGuid().ToString("n"));
        await storage.WriteStateAsync("a", _grain, new GrainState<Shape>(new Shape { Name = "a" }));
        await storage.WriteStateAsync("b", _grain, new GrainState<Shape>(new Shape { Name = "b" }));
        await storage.WriteStateAsync("a", other, new GrainState<Shape>(new Shape { Name = "other" }));
        var read = new GrainState<Shape>();
        await storage.ReadStateAsync("b", _grain, read);
        Assert.Equal("b", read.State!.Name);
    }

    [Fact]
    public async Task The_file_is_in_wal_mode()
    {
        await NewStorage().EnsureInitializedAsync();
        await using var connection = new SqliteConnection($"Data Source={DatabasePath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_state_past_the_size_limit_is_refused_and_nothing_is_written()
    {
        var storage = NewStorage(maxStateBytes: 1_000);
        var error = await Assert.ThrowsAsync<LimitExceededException>(
            () => storage.WriteStateAsync("s", _grain, new GrainState<Shape>(new Shape { Name = new string('x', 2_000) })));
        Assert.Equal("Storage:MaxStateBytes", error.Limit);
        var read = new GrainState<Shape>();
        await storage.ReadStateAsync("s", _grain, read);
        Assert.False(read.RecordExists);
    }

    [Fact]
    public async Task Each_storage_operation_is_a_span_under_the_caller()
    {
        var spans = new List<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == GroundworkTelemetry.ActivitySourceName,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (spans)
                {
                    spans.Add(activity);
                }
            },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        using var parentSource = new System.Diagnostics.ActivitySource("test-parent");
        using var parentListener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == "test-parent",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(parentListener);

        var storage = NewStorage();
        using (var parent = parentSource.StartActivity("grain call"))
        {
            await storage.WriteStateAsync("s", _grain, new GrainState<Shape>(new Shape { Name = "traced" }));
            await storage.ReadStateAsync("s", _grain, new GrainState<Shape>());
            lock (spans)
            {
                var mine = spans.Where(s => s.ParentSpanId == parent!.SpanId).Select(s => s.OperationName).ToList();
                Assert.Equal(["groundwork.storage.write", "groundwork.storage.read"], mine);
            }
        }
    }

    public sealed class Shape
    {
        public string Name { get; set; } = "";

        public int Count { get; set; }

        public List<string> Tags { get; set; } = [];

        public DateOnly? Due { get; set; }
    }

    public sealed class RenamedShape
    {
        public string Name { get; set; } = "";

        public int Count { get; set; }
    }
}

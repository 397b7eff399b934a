using Groundwork.Grains.Lists;
using Groundwork.Grains.Resources;
using Xunit;

namespace Groundwork.Grains.Tests.Lists;

public sealed class OperationLogTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly ListOptions Limits = new() { IdempotencyMinEntries = 3, IdempotencyWindow = TimeSpan.FromMinutes(10), IdempotencyMaxEntries = 6 };

    private static List<OperationRecord> Records(params int[] minutesAgo) =>
        minutesAgo.Select((m, i) => new OperationRecord($"op-{i}", Now.AddMinutes(-m), new MutationResult(i + 1))).ToList();

    [Fact]
    public void Old_records_go_but_the_newest_minimum_stays_however_old()
    {
        var records = Records(60, 50, 40, 30, 20);
        OperationLog.Trim(records, Now, Limits);
        Assert.Equal(["op-2", "op-3", "op-4"], records.Select(r => r.Id));
    }

    [Fact]
    public void Records_inside_the_window_stay_beyond_the_minimum()
    {
        var records = Records(30, 9, 8, 7, 6);
        OperationLog.Trim(records, Now, Limits);
        Assert.Equal(["op-1", "op-2", "op-3", "op-4"], records.Select(r => r.Id));
    }

    [Fact]
    public void The_hard_cap_bounds_records_even_inside_the_window()
    {
        var records = Records(9, 8, 7, 6, 5, 4, 3, 2);
        OperationLog.Trim(records, Now, Limits);
        Assert.Equal(6, records.Count);
        Assert.Equal("op-2", records[0].Id);
    }

    [Fact]
    public void The_defaults_keep_a_thousand_records_or_ten_minutes()
    {
        var defaults = new ListOptions();
        Assert.Equal((1_000, TimeSpan.FromMinutes(10)), (defaults.IdempotencyMinEntries, defaults.IdempotencyWindow));
        Assert.True(defaults.IdempotencyMaxEntries >= defaults.IdempotencyMinEntries);
    }
}

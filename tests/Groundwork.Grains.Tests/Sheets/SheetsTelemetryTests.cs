using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Groundwork.Sheets;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Sheets;

/// <summary>What a workbook mutation recalculated is measured on the Groundwork meter.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SheetsTelemetryTests(ClusterFixture fixture) : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<long> _recalculated = new();

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Each_mutation_records_the_cells_its_recalculation_reached()
    {
        var tenant = await fixture.NewTenantAsync();
        using (ClusterFixture.As(tenant.OwnerKey))
        {
            var book = fixture.Client.GetWorkbook($"{tenant.Id}/workbook/measured");
            await book.CreateAsync("Measured");
            await book.EditAsync([new("B1", "=A1+1"), new("B2", "=B1*2"), new("C1", "=SUM(A1:A9)")]);
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == GroundworkTelemetry.MeterName && instrument.Name == "groundwork.sheets.recalculated")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => _recalculated.Enqueue(value));
            _listener.Start();

            // A1 and what reads it: B1, B2 (through B1) and C1 (through its area).
            await book.EditAsync([new("A1", "5")]);
            // A cell nothing reads: a batch that recalculates nothing still counts, as 0.
            await book.EditAsync([new("Z9", "1")]);
            Assert.Equal([4L, 0L], _recalculated);
        }
    }
}

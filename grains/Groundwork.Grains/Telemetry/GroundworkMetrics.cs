using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Groundwork.Grains.Telemetry;

/// <summary>The <c>Groundwork</c> meter and activity source, and the domain instruments every building block shares.</summary>
public static class GroundworkMetrics
{
    /// <summary>The meter (<see cref="GroundworkTelemetry.MeterName"/>).</summary>
    public static readonly Meter Meter = new(GroundworkTelemetry.MeterName);

    /// <summary>The activity source (<see cref="GroundworkTelemetry.ActivitySourceName"/>).</summary>
    public static readonly ActivitySource ActivitySource = new(GroundworkTelemetry.ActivitySourceName);

    /// <summary>Operations of building blocks, tagged <c>block</c>, <c>kind</c> and <c>outcome</c>.</summary>
    public static readonly Counter<long> Operations =
        Meter.CreateCounter<long>("groundwork.operations", "{operation}", "Building-block operations by block, kind and outcome.");

    /// <summary>Calls refused by the access filter, tagged <c>reason</c>.</summary>
    public static readonly Counter<long> AccessRefusals =
        Meter.CreateCounter<long>("groundwork.access.refusals", "{call}", "Grain calls refused by the access filter, by reason.");

    /// <summary>Keys verified by asking their tenant grain (cache misses of the credential cache).</summary>
    public static readonly Counter<long> Verifications =
        Meter.CreateCounter<long>("groundwork.access.verifications", "{call}", "API keys verified by asking their tenant (credential cache misses).");

    /// <summary>Mutations answered from the idempotency window instead of being applied again, tagged <c>block</c>.</summary>
    public static readonly Counter<long> IdempotentReplays =
        Meter.CreateCounter<long>("groundwork.idempotent.replays", "{operation}", "Retried operation ids answered with their first result.");

    /// <summary>Open change-feed watchers, tagged <c>block</c>.</summary>
    public static readonly UpDownCounter<long> FeedWatchers =
        Meter.CreateUpDownCounter<long>("groundwork.feed.watchers", "{watcher}", "Change-feed watchers currently open.");

    /// <summary>
    /// Milliseconds from a change's commit (its <c>At</c>, taken just before its durable write) to its hand-over to a
    /// live watcher, tagged <c>block</c>. Replayed history is not recorded: its age is not lag.
    /// </summary>
    public static readonly Histogram<double> FeedLag =
        Meter.CreateHistogram<double>("groundwork.feed.lag", "ms", "Time from a change being written to a live watcher receiving it.");

    /// <summary>
    /// Cells one workbook mutation's recalculation reached, per mutation: the edited cells that something reads, their
    /// dependents and the volatile formulas (a dependent whose precedents kept their values is reached, not evaluated).
    /// </summary>
    public static readonly Histogram<long> SheetsRecalculated =
        Meter.CreateHistogram<long>("groundwork.sheets.recalculated", "{cell}", "Cells one workbook mutation's recalculation reached.");

    // Each presence grain's latest count of members online and away on this silo.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<object, (int Online, int Away)> PresenceCounts = new();

    /// <summary>Members with a live connection, on this silo's presence grains, tagged <c>status</c> (online, away).</summary>
    public static readonly ObservableGauge<int> ChatMembers =
        Meter.CreateObservableGauge("groundwork.chat.members", ObserveMembers, "{member}", "Chat members with a live connection, by status.");

    private static IEnumerable<Measurement<int>> ObserveMembers()
    {
        var (online, away) = (0, 0);
        foreach (var (o, a) in PresenceCounts.Values)
        {
            (online, away) = (online + o, away + a);
        }

        return [new(online, new KeyValuePair<string, object?>("status", "online")), new(away, new KeyValuePair<string, object?>("status", "away"))];
    }

    /// <summary>A presence grain's current counts (null when it deactivates).</summary>
    public static void Presence(object grain, (int Online, int Away)? counts)
    {
        if (counts is { } value)
        {
            PresenceCounts[grain] = value;
        }
        else
        {
            PresenceCounts.TryRemove(grain, out _);
        }
    }

    /// <summary>Counts a refusal by its reason and returns it, for <c>throw GroundworkMetrics.Refused(...)</c>.</summary>
    public static AccessDeniedException Refused(AccessDeniedException refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        AccessRefusals.Add(1, new KeyValuePair<string, object?>("reason", refusal.Reason.ToString()));
        return refusal;
    }

    /// <summary>Records one operation's outcome.</summary>
    public static void Operation(string block, string kind, string outcome) =>
        Operations.Add(1, new("block", block), new("kind", kind), new("outcome", outcome));
}

/// <summary>Instruments of the embedded SQLite storage.</summary>
internal static class StorageMetrics
{
    public static readonly Histogram<double> Duration = GroundworkMetrics.Meter.CreateHistogram<double>(
        "groundwork.storage.duration", "s", "SQLite grain storage operation time, by operation.");

    public static readonly Histogram<long> Bytes = GroundworkMetrics.Meter.CreateHistogram<long>(
        "groundwork.storage.bytes", "By", "Size of grain state payloads read and written, by operation.");

    public static readonly Counter<long> Conflicts = GroundworkMetrics.Meter.CreateCounter<long>(
        "groundwork.storage.conflicts", "{write}", "Stale writes refused by ETag.");

    public static void Record(string operation, long bytes, long startedTimestamp)
    {
        var tag = new KeyValuePair<string, object?>("operation", operation);
        Duration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, tag);
        if (bytes > 0)
        {
            Bytes.Record(bytes, tag);
        }
    }
}

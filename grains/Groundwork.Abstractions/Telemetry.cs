namespace Groundwork;

/// <summary>The names of Groundwork's own telemetry, for subscribing to it.</summary>
public static class GroundworkTelemetry
{
    /// <summary>The <c>Groundwork</c> meter: domain operations, access refusals, idempotent replays, feed watchers.</summary>
    public const string MeterName = "Groundwork";

    /// <summary>The <c>Groundwork</c> activity source.</summary>
    public const string ActivitySourceName = "Groundwork";
}

namespace Groundwork;

/// <summary>The names of Groundwork's own telemetry, for subscribing to it.</summary>
public static class GroundworkTelemetry
{
    /// <summary>The <c>Groundwork</c> meter: domain operations, access refusals, idempotent replays, feed watchers.</summary>
    public const string MeterName = "Groundwork";

    /// <summary>The <c>Groundwork</c> activity source.</summary>
    public const string ActivitySourceName = "Groundwork";

    /// <summary>
    /// The value of <paramref name="key"/> in an <c>OTEL_RESOURCE_ATTRIBUTES</c> list (<c>k1=v1,k2=v2</c>, values
    /// percent-encoded), or null. Silo and client use it so a configured <c>service.instance.id</c> wins over theirs.
    /// </summary>
    public static string? ResourceAttribute(string? attributes, string key)
    {
        foreach (var pair in (attributes ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && pair[..equals].Trim() == key)
            {
                return Uri.UnescapeDataString(pair[(equals + 1)..].Trim());
            }
        }

        return null;
    }
}

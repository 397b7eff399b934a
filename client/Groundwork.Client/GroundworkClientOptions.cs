namespace Groundwork.Client;

/// <summary>Options of the Groundwork client (configuration section <c>Groundwork:Client</c>).</summary>
public sealed class GroundworkClientOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Groundwork:Client";

    /// <summary>
    /// The API key every call carries (a tenant key <c>gwk_...</c>, or the operator key <c>gwo_...</c>).
    /// <see cref="GroundworkCredentials.Use"/> overrides it for a scope.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>How long to keep trying to reach a gateway at start before failing. Default 30 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a client joined through <c>Orleans:Clustering</c> re-reads the list of live gateways. Default 5 s
    /// (Orleans' own default is 60 s), so a client stops sending to a silo the cluster declared dead within seconds.
    /// </summary>
    public TimeSpan GatewayListRefreshPeriod { get; set; } = TimeSpan.FromSeconds(5);
}

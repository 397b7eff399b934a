namespace Groundwork.Grains.Access;

/// <summary>Options of the access check (configuration section <c>Groundwork:Access</c>).</summary>
public sealed class AccessOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Groundwork:Access";

    /// <summary>
    /// The operator key (<c>gwo_</c> and 64 hex digits), which creates tenants. When unset, the silo reads
    /// <see cref="OperatorKeyFile"/>, generating it at first start.
    /// </summary>
    public string? OperatorKey { get; set; }

    /// <summary>Where the generated operator key is kept when <see cref="OperatorKey"/> is unset. Default <c>./data/operator.key</c>.</summary>
    public string OperatorKeyFile { get; set; } = "./data/operator.key";

    /// <summary>
    /// How long a verified key is trusted before it is checked again. A revoked key stops working within this
    /// time on every silo. Default 30 s.
    /// </summary>
    public TimeSpan CredentialCacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many verified keys a silo remembers. Default 10,000.</summary>
    public int CredentialCacheSize { get; set; } = 10_000;

    /// <summary>
    /// Feed watchers one API key may hold open on one silo, over all resources (each resource also bounds its own).
    /// Default 100.
    /// </summary>
    public int MaxWatchersPerKey { get; set; } = 100;
}

using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests.Kit;

/// <summary>
/// A one-silo cluster with settings the shared fixture cannot have: no idempotency window (only the minimum count
/// keeps operation ids), a large directory, many watchers per key, a one-second credential cache, and chat with a small rate, 5 channels per tenant and a feed served for 2 s.
/// </summary>
public sealed class KitFixture : IAsyncLifetime
{
    /// <summary>The settings, beside the defaults.</summary>
    public static IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["Groundwork:Lists:IdempotencyWindow"] = "00:00:00",
        ["Groundwork:Tenants:MaxDirectoryEntries"] = "5000",
        ["Groundwork:Access:MaxWatchersPerKey"] = "1000",
        ["Groundwork:Access:CredentialCacheDuration"] = "00:00:01",
        ["Groundwork:Chat:PostBurst"] = "3",
        ["Groundwork:Chat:PostRate"] = "5",
        ["Groundwork:Chat:MaxPerTenant"] = "5",
        ["Groundwork:Chat:FeedRetentionAge"] = "00:00:02",
    };

    /// <summary>The cluster.</summary>
    public ClusterFixture Cluster { get; } = ClusterFixture.Create(Settings, silos: 1);

    /// <inheritdoc/>
    public Task InitializeAsync() => Cluster.InitializeAsync();

    /// <inheritdoc/>
    public Task DisposeAsync() => Cluster.DisposeAsync();
}

/// <summary>The collection that shares one <see cref="KitFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class KitCollection : ICollectionFixture<KitFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "kit";
}

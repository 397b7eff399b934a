using Groundwork.Testing;
using Xunit;

namespace Groundwork.Grains.Tests;

/// <summary>The collection that shares one <see cref="ClusterFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "cluster";
}

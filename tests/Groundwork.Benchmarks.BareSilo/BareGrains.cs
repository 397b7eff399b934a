using Groundwork.Lists;

namespace Groundwork.Benchmarks.BareSilo;

/// <summary>A grain that answers with a snapshot it was given: a list read without access, telemetry or storage.</summary>
[Alias("bench.bare-list")]
public interface IBareListGrain : IGrainWithStringKey
{
    /// <summary>Keeps <paramref name="snapshot"/> in memory.</summary>
    [Alias("set")]
    Task SetAsync(ListSnapshot snapshot);

    /// <summary>The snapshot it keeps.</summary>
    [Alias("get")]
    Task<ListSnapshot?> GetAsync();

    /// <summary>Nothing: an empty call.</summary>
    [Alias("ping")]
    Task PingAsync();
}

/// <inheritdoc cref="IBareListGrain"/>
public sealed class BareListGrain : Grain, IBareListGrain
{
    private ListSnapshot? _snapshot;

    /// <inheritdoc/>
    public Task SetAsync(ListSnapshot snapshot)
    {
        _snapshot = snapshot;
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<ListSnapshot?> GetAsync() => Task.FromResult(_snapshot);

    /// <inheritdoc/>
    public Task PingAsync() => Task.CompletedTask;
}

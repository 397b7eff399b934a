namespace Groundwork.Silo.Hosting;

/// <summary>
/// Warns at start when the silo joins a real cluster (Orleans:Clustering:*) but keeps grain state in its local
/// SQLite file: silos on different hosts would then each have their own state. Set Groundwork:Storage:Kind=Redis for shared state.
/// </summary>
public sealed partial class StorageModeNotice(SiloOptions options, ILogger<StorageModeNotice> logger) : IHostedService
{
    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogLocalStateInCluster(logger, Path.GetFullPath(options.StoragePath));
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster membership comes from Orleans:Clustering, but grain state is in the local SQLite file {Path}: every silo of this cluster must use that same file (one host). Set Groundwork:Storage:Kind=Redis and Groundwork:Storage:ConnectionString for state shared by silos on several hosts.")]
    private static partial void LogLocalStateInCluster(ILogger logger, string path);
}

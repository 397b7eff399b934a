namespace Groundwork.Silo.Hosting;

/// <summary>
/// On stop (SIGTERM, Ctrl+C), keeps HTTP up for <see cref="SiloOptions.ShutdownDrain"/> while <c>/health/ready</c>
/// answers 503, so load balancers and orchestrators stop routing here before the silo leaves the cluster.
/// </summary>
public sealed partial class ReadinessDrain(SiloOptions options, ILogger<ReadinessDrain> logger) : IHostedLifecycleService
{
    /// <inheritdoc/>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        if (options.ShutdownDrain > TimeSpan.Zero)
        {
            LogDraining(logger, options.ShutdownDrain);
            await Task.Delay(options.ShutdownDrain, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: /health/ready answers 503 for {Drain} before the silo leaves the cluster")]
    private static partial void LogDraining(ILogger logger, TimeSpan drain);
}

using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Orleans.Storage;
using StackExchange.Redis;

namespace Groundwork.Grains.Storage;

/// <summary>
/// Wraps a grain storage provider so that "storage cannot be reached" reaches callers as one typed
/// <see cref="StorageUnavailableException"/> within the client's own timeout, instead of a provider-specific
/// exception (or a hang). ETag conflicts (<see cref="InconsistentStateException"/>) and everything else pass unchanged.
/// The storage client's own message names hosts and keys: it is logged here, and the caller gets only its kind.
/// </summary>
public sealed partial class UnavailableStorageGuard(IGrainStorage inner, string provider, ILogger<UnavailableStorageGuard> logger) : IGrainStorage
{
    /// <inheritdoc/>
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Guard("read", grainId, () => inner.ReadStateAsync(stateName, grainId, grainState));

    /// <inheritdoc/>
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Guard("write", grainId, () => inner.WriteStateAsync(stateName, grainId, grainState));

    /// <inheritdoc/>
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Guard("clear", grainId, () => inner.ClearStateAsync(stateName, grainId, grainState));

    /// <summary>
    /// What kind of "could not be reached" <paramref name="exception"/> (or a cause of it) is: <c>not reachable</c>,
    /// <c>timed out</c> or <c>loading its data</c>; null when it is something else.
    /// </summary>
    public static string? Classify(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case InconsistentStateException:
                    return null;
                case RedisTimeoutException or TimeoutException:
                    return TimedOut;
                case RedisConnectionException or SocketException:
                    return NotReachable;
                case Orleans.Persistence.Redis.RedisStorageException wrapped when wrapped.InnerException is null:
                    // The Orleans Redis provider folds the StackExchange.Redis error into its message.
                    if (wrapped.Message.Contains(nameof(RedisTimeoutException), StringComparison.Ordinal))
                    {
                        return TimedOut;
                    }

                    if (wrapped.Message.Contains(nameof(RedisConnectionException), StringComparison.Ordinal))
                    {
                        return NotReachable;
                    }

                    break;
                case RedisServerException server when server.Message.StartsWith("LOADING", StringComparison.Ordinal)
                                                   || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal):
                    return Loading;
            }
        }

        return null;
    }

    private const string NotReachable = "not reachable";
    private const string TimedOut = "timed out";
    private const string Loading = "loading its data";

    private async Task Guard(string operation, GrainId grainId, Func<Task> call)
    {
        // Only a write serializes a state, so only a write can be refused as too large.
        var refusal = operation == "write" ? JsonStateSerializer.NoteRefusals() : null;
        try
        {
            await call();
        }
        catch (Exception exception) when (refusal?.Value is { } limit && exception != limit)
        {
            // A state over the size limit, refused by the serializer inside the provider: the caller gets the limit.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(limit);
        }
        catch (Exception exception) when (Classify(exception) is { } kind)
        {
            LogUnavailable(logger, exception, provider, operation, grainId.ToString(), kind);
            throw new StorageUnavailableException(provider, operation, kind);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage {Provider} {Operation} of {GrainId} failed: {Kind}; the caller gets StorageUnavailableException")]
    private static partial void LogUnavailable(ILogger logger, Exception exception, string provider, string operation, string grainId, string kind);
}

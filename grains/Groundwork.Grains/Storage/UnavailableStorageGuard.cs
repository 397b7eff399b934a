using System.Net.Sockets;
using Orleans.Storage;
using StackExchange.Redis;

namespace Groundwork.Grains.Storage;

/// <summary>
/// Wraps a grain storage provider so that "storage cannot be reached" reaches callers as one typed
/// <see cref="StorageUnavailableException"/> within the client's own timeout, instead of a provider-specific
/// exception (or a hang). ETag conflicts (<see cref="InconsistentStateException"/>) and everything else pass unchanged.
/// </summary>
public sealed class UnavailableStorageGuard(IGrainStorage inner, string provider) : IGrainStorage
{
    /// <inheritdoc/>
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Guard("read", () => inner.ReadStateAsync(stateName, grainId, grainState));

    /// <inheritdoc/>
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Guard("write", () => inner.WriteStateAsync(stateName, grainId, grainState));

    /// <inheritdoc/>
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Guard("clear", () => inner.ClearStateAsync(stateName, grainId, grainState));

    /// <summary>Whether <paramref name="exception"/> (or a cause of it) says the store could not be reached.</summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case InconsistentStateException:
                    return false;
                case RedisConnectionException or RedisTimeoutException or TimeoutException or SocketException:
                    return true;
                case Orleans.Persistence.Redis.RedisStorageException wrapped when wrapped.InnerException is null && NamesConnectionFailure(wrapped.Message):
                    // The Orleans Redis provider folds the StackExchange.Redis error into its message.
                    return true;
                case RedisServerException server when server.Message.StartsWith("LOADING", StringComparison.Ordinal)
                                                   || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal):
                    return true;
            }
        }

        return false;
    }

    private static bool NamesConnectionFailure(string message) =>
        message.Contains(nameof(RedisConnectionException), StringComparison.Ordinal)
        || message.Contains(nameof(RedisTimeoutException), StringComparison.Ordinal);

    private async Task Guard(string operation, Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (Exception exception) when (IsUnavailable(exception))
        {
            throw new StorageUnavailableException(provider, operation, FirstLine(exception.GetBaseException().Message));
        }
    }

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length <= 300 ? line : line[..300];
    }
}

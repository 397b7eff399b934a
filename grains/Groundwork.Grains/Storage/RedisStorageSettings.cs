using StackExchange.Redis;

namespace Groundwork.Grains.Storage;

/// <summary>
/// Grain state and reminders in Redis, for a cluster of silos on several hosts (configuration section
/// <c>Groundwork:Storage</c> with <c>Kind=Redis</c>).
/// </summary>
public sealed class RedisStorageSettings
{
    /// <summary>
    /// The StackExchange.Redis connection string, for example <c>redis:6379</c> or
    /// <c>redis:6379,password=...,ssl=true</c> (<c>Groundwork:Storage:ConnectionString</c>). Required.
    /// </summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// How long one storage call may wait for Redis before the caller gets <see cref="StorageUnavailableException"/>
    /// (<c>Groundwork:Storage:OperationTimeout</c>). Default 3 s, well inside the 30 s response timeout. An
    /// <c>asyncTimeout</c> in the connection string wins.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The largest state one grain may store, in bytes (<c>Groundwork:Storage:MaxStateBytes</c>, as for SQLite). Default 64 MiB.</summary>
    public int MaxStateBytes { get; set; } = SqliteStorageOptions.DefaultMaxStateBytes;

    /// <summary>The StackExchange.Redis options: keeps retrying to connect, and fails calls after <see cref="OperationTimeout"/>.</summary>
    public ConfigurationOptions ToConfigurationOptions()
    {
        var options = ConfigurationOptions.Parse(ConnectionString);
        options.AbortOnConnectFail = false;
        if (!ConnectionString.Contains("asyncTimeout", StringComparison.OrdinalIgnoreCase))
        {
            options.AsyncTimeout = (int)OperationTimeout.TotalMilliseconds;
        }

        if (!ConnectionString.Contains("syncTimeout", StringComparison.OrdinalIgnoreCase))
        {
            options.SyncTimeout = (int)OperationTimeout.TotalMilliseconds;
        }

        return options;
    }
}

using Groundwork.Grains.Access;
using Groundwork.Grains.Lists;
using Groundwork.Grains.Storage;
using Groundwork.Grains.Tenants;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

namespace Groundwork.Grains.Hosting;

/// <summary>Registering Groundwork's grains, access check and embedded storage on a silo.</summary>
public static class GroundworkSiloBuilderExtensions
{
    /// <summary>
    /// Adds the access filter, the credential verifier and the building blocks' options, bound from
    /// <paramref name="configuration"/> (<c>Groundwork:Access</c>, <c>Groundwork:Tenants</c>, <c>Groundwork:Lists</c>)
    /// and validated at start.
    /// </summary>
    public static ISiloBuilder AddGroundwork(this ISiloBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var services = builder.Services;
        services.AddOptions<AccessOptions>()
            .Bind(configuration.GetSection(AccessOptions.SectionName))
            .Validate(o => o.CredentialCacheDuration >= TimeSpan.Zero && o.CredentialCacheSize > 0 && o.MaxWatchersPerKey > 0,
                "Groundwork:Access:CredentialCacheDuration must not be negative, and CredentialCacheSize and MaxWatchersPerKey must be positive")
            .ValidateOnStart();
        services.AddOptions<ListOptions>()
            .Bind(configuration.GetSection(ListOptions.SectionName))
            .Validate(o => o.MaxItems > 0 && o.MaxTitleLength > 0 && o.MaxItemTitleLength > 0 && o.MaxNotesLength >= 0 &&
                           o.MaxAccessEntries >= 0 && o.FeedRetention > 0 && o.MaxWatchers > 0 && o.IdempotencyMinEntries >= 0 &&
                           o.IdempotencyMaxEntries >= o.IdempotencyMinEntries && o.MaxOperationIdLength > 0,
                "Groundwork:Lists limits must be positive, and IdempotencyMaxEntries at least IdempotencyMinEntries")
            .ValidateOnStart();
        services.AddOptions<TenantOptions>()
            .Bind(configuration.GetSection(TenantOptions.SectionName))
            .Validate(o => o.MaxMembers > 0 && o.MaxKeys > 0 && o.MaxDirectoryEntries > 0, "Groundwork:Tenants limits must be positive")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<OperatorKey>();
        services.TryAddSingleton<CredentialVerifier>();
        services.TryAddSingleton<WatcherCount>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, OperatorKeyResolver>();
        builder.AddIncomingGrainCallFilter<AccessControlFilter>();
        builder.AddOutgoingGrainCallFilter<InternalCallMarker>();
        return builder;
    }

    /// <summary>
    /// Uses one SQLite file as the grain storage of every Groundwork grain (provider <see cref="StorageNames.Provider"/>),
    /// with options bound from <c>Groundwork:Storage</c> of <paramref name="configuration"/> and then
    /// <paramref name="configure"/>.
    /// </summary>
    public static ISiloBuilder UseGroundworkSqliteStorage(this ISiloBuilder builder, IConfiguration? configuration = null, Action<SqliteStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new SqliteStorageOptions();
        configuration?.GetSection(SqliteStorageOptions.SectionName).Bind(options);
        configure?.Invoke(options);
        builder.Services.AddGrainStorage(StorageNames.Provider,
            (services, name) => new SqliteGrainStorage(name, options, services.GetRequiredService<ILogger<SqliteGrainStorage>>()));
        builder.AddIncomingGrainCallFilter<StorageErrorFilter>();
        return builder;
    }

    /// <summary>
    /// Keeps every Groundwork grain's state, and reminders, in Redis (the official Orleans Redis providers) for a
    /// cluster of silos on several hosts: <c>Groundwork:Storage:ConnectionString</c> and <c>OperationTimeout</c>
    /// (<see cref="RedisStorageSettings"/>). State is stored as plain JSON (<see cref="JsonStateSerializer"/>);
    /// Redis being unreachable reaches callers as <see cref="StorageUnavailableException"/>.
    /// </summary>
    public static ISiloBuilder UseGroundworkRedisStorage(this ISiloBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var settings = new RedisStorageSettings();
        configuration.GetSection(SqliteStorageOptions.SectionName).Bind(settings);
        var inner = StorageNames.Provider + ".redis";
        builder.AddRedisGrainStorage(inner, o =>
        {
            o.ConfigurationOptions = settings.ToConfigurationOptions();
            o.GrainStorageSerializer = new JsonStateSerializer(settings.MaxStateBytes);
        });
        builder.UseRedisReminderService(o => o.ConfigurationOptions = settings.ToConfigurationOptions());
        builder.Services.AddGrainStorage(StorageNames.Provider,
            (services, _) => new UnavailableStorageGuard(services.GetRequiredKeyedService<IGrainStorage>(inner), "Redis", services.GetRequiredService<ILogger<UnavailableStorageGuard>>()));
        builder.AddIncomingGrainCallFilter<StorageErrorFilter>();
        return builder;
    }

    /// <summary>Resolves the operator key while the silo starts, so a bad key stops it with a clear message.</summary>
    private sealed class OperatorKeyResolver(OperatorKey key) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle observer) =>
            observer.Subscribe<OperatorKeyResolver>(ServiceLifecycleStage.RuntimeInitialize, _ =>
            {
                key.EnsureResolved();
                return Task.CompletedTask;
            });
    }
}

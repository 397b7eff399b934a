using Groundwork.Grains.Access;
using Groundwork.Grains.Resources;
using Groundwork.Grains.Storage;
using Groundwork.Grains.Tenants;
using Groundwork.Transport;
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
    /// <paramref name="configuration"/> (<c>Groundwork:Access</c>, <c>Groundwork:Tenants</c>, and <c>Groundwork:{Block}</c> for each building block)
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
        services.AddOptions<TenantOptions>()
            .Bind(configuration.GetSection(TenantOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddOptions<FeedRelayOptions>()
            .Bind(configuration.GetSection(FeedRelayOptions.SectionName))
            .Validate(o => o.MaxWatchers > 0 && o.Buffer > 0, "Groundwork:Relay:MaxWatchers and Buffer must be positive")
            .ValidateOnStart();

        // Every building block's options (a ResourceOptions type of this assembly), bound to Groundwork:{Block}.
        services.AddBuildingBlocks(configuration, typeof(GroundworkSiloBuilderExtensions).Assembly);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<OperatorKey>();
        services.TryAddSingleton<CredentialVerifier>();
        services.TryAddSingleton<WatcherCount>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, OperatorKeyResolver>();
        builder.AddIncomingGrainCallFilter<AccessControlFilter>();
        builder.AddOutgoingGrainCallFilter<InternalCallMarker>();
        builder.AddGrainExtension<IFeedRelaySource, FeedRelaySource>();
        GrainInterfaceTypeCache.AddTo(services);
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
        options.Validate();

        // One database, one writer: grain states and resource commits of every grain share its transactions.
        var services = builder.Services;
        services.AddSingleton(_ => new SqliteDatabase(options));
        services.AddSingleton(sp => new SqliteGrainStorage(StorageNames.Provider, options, sp.GetRequiredService<SqliteDatabase>(), sp.GetRequiredService<ILogger<SqliteGrainStorage>>()));
        services.AddGrainStorage(StorageNames.Provider, (sp, _) => sp.GetRequiredService<SqliteGrainStorage>());
        services.AddSingleton<IResourceStore>(sp => new SqliteResourceStore(sp.GetRequiredService<SqliteGrainStorage>()));
        services.AddSingleton(new JsonStateSerializer(options.MaxStateBytes));
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
        builder.Services.AddSingleton<IResourceStore>(services => new RedisResourceStore(settings, services.GetRequiredService<ILogger<RedisResourceStore>>()));
        builder.Services.AddSingleton(new JsonStateSerializer(settings.MaxStateBytes));
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

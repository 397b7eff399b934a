using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Microsoft.Extensions.Logging;
using Orleans.Serialization;
using Orleans.Serialization.Configuration;
using Orleans.Serialization.Serializers;

namespace Groundwork.Transport;

/// <summary>Putting <see cref="MessageGuard"/> in front of Orleans on a silo.</summary>
public static class MessageGuardExtensions
{
    /// <summary>
    /// Checks every message a client sends to this silo's gateway against <see cref="MessageLimits"/> (bound from
    /// <c>Groundwork:Messages</c>) before Orleans reads it. With <paramref name="guardSiloPort"/>, messages on the
    /// silo-to-silo port are checked for shape too (sizes up to Orleans' own limits): for a silo port that mutual TLS
    /// does not close to strangers, such as the embedded default's, which any local user can reach. Call it after
    /// TLS is configured, so the guard reads decrypted frames.
    /// </summary>
    /// <exception cref="ArgumentException">A limit in <c>Groundwork:Messages</c> cannot work; the message names it.</exception>
    public static ISiloBuilder UseGroundworkMessageGuard(this ISiloBuilder builder, IConfiguration configuration, bool guardSiloPort)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var limits = new MessageLimits();
        configuration.GetSection(MessageLimits.SectionName).Bind(limits);
        if (limits.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(configuration));
        }

        builder.Services.AddSingleton(limits);
        builder.Services.AddSingleton<RefusalBudget>();
        builder.Services.AddSingleton<IGeneralizedCodec, RefusedBodyCodec>();
        builder.Services.Configure<TypeManifestOptions>(o => o.AllowedTypes.Add(typeof(RefusedBody).FullName!));
        builder.Configure<SiloConnectionOptions>(o =>
        {
            o.ConfigureGatewayInboundConnection(connection => Use(connection, limits, checkInterfaces: true));
            if (guardSiloPort)
            {
                o.ConfigureSiloInboundConnection(connection => Use(connection, new MessageLimits
                {
                    MaxHeaderBytes = 10 * 1024 * 1024, // Orleans' MessagingOptions defaults: silos send large answers
                    MaxBodyBytes = 100 * 1024 * 1024,
                    MaxNestingDepth = limits.MaxNestingDepth,
                    MaxRequestContextEntries = limits.MaxRequestContextEntries,
                    MaxTypeNameBytes = limits.MaxTypeNameBytes,
                }, checkInterfaces: false));
            }
        });
        return builder;
    }

    private static void Use(IConnectionBuilder connection, MessageLimits limits, bool checkInterfaces)
    {
        var services = connection.ApplicationServices;
        MessageGuard.InterfaceCheck? interfaces = checkInterfaces
            ? new MessageGuard.InterfaceCheck(services.GetRequiredService<IClusterManifestProvider>())
            : null;
        var guard = new MessageGuard(limits, services.GetRequiredService<Serializer>(), interfaces,
            checkInterfaces ? services.GetRequiredService<RefusalBudget>() : null, services.GetRequiredService<ILogger<MessageGuard>>());
        connection.Use(next => context => guard.OnConnectionAsync(context, next));
    }
}

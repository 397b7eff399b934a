using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Orleans.Connections.Security;

namespace Groundwork.Transport;

/// <summary>Turning on TLS from <c>Groundwork:Tls</c> on a silo or a client.</summary>
public static class TransportBuilderExtensions
{
    /// <summary>Silo-to-silo and gateway connections over mutual TLS, when <c>Groundwork:Tls:CertificatePath</c> is set.</summary>
    public static ISiloBuilder UseGroundworkTls(this ISiloBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        Use(configuration, (certificate, configure) => builder.UseTls(certificate, configure));
        return builder;
    }

    /// <summary>Connections to gateways over mutual TLS, when <c>Groundwork:Tls:CertificatePath</c> is set.</summary>
    public static IClientBuilder UseGroundworkTls(this IClientBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        Use(configuration, (certificate, configure) => builder.UseTls(certificate, configure));
        return builder;
    }

    private static void Use(IConfiguration configuration, Action<X509Certificate2, Action<TlsOptions>> useTls)
    {
        var settings = TlsSettings.From(configuration);
        if (settings.Enabled)
        {
            var certificate = settings.LoadCertificate();
            useTls(certificate, o => settings.Apply(o, certificate));
        }
    }
}

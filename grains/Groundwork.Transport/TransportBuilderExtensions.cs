using Microsoft.Extensions.Configuration;

namespace Groundwork.Transport;

/// <summary>Turning on TLS from <c>Groundwork:Tls</c> on a silo or a client.</summary>
public static class TransportBuilderExtensions
{
    /// <summary>Silo-to-silo and gateway connections over mutual TLS, when <c>Groundwork:Tls:CertificatePath</c> is set.</summary>
    public static ISiloBuilder UseGroundworkTls(this ISiloBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var settings = TlsSettings.From(configuration);
        if (settings.Enabled)
        {
            var certificate = settings.LoadCertificate();
            builder.UseTls(certificate, o => settings.Apply(o, certificate));
        }

        return builder;
    }

    /// <summary>Connections to gateways over mutual TLS, when <c>Groundwork:Tls:CertificatePath</c> is set.</summary>
    public static IClientBuilder UseGroundworkTls(this IClientBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var settings = TlsSettings.From(configuration);
        if (settings.Enabled)
        {
            var certificate = settings.LoadCertificate();
            builder.UseTls(certificate, o => settings.Apply(o, certificate));
        }

        return builder;
    }
}

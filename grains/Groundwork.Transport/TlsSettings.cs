using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Orleans.Connections.Security;

namespace Groundwork.Transport;

/// <summary>
/// TLS for Orleans connections (configuration section <c>Groundwork:Tls</c>), the same keys on silo and client.
/// TLS is on when <see cref="CertificatePath"/> is set. Both ends present a certificate (mutual TLS) and accept
/// a peer whose certificate chains to <see cref="CaPath"/>: every silo and client of a cluster is signed by the
/// cluster's own CA. Host names are not checked, because silos are addressed by IP.
/// </summary>
public sealed class TlsSettings
{
    /// <summary>The configuration section these settings bind to.</summary>
    public const string SectionName = "Groundwork:Tls";

    /// <summary>This process's certificate: a PEM file (with <see cref="KeyPath"/>) or a PKCS#12 <c>.pfx</c> (<c>Groundwork:Tls:CertificatePath</c>).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/> (<c>Groundwork:Tls:KeyPath</c>); not needed for <c>.pfx</c> or a PEM holding both.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a <c>.pfx</c> file (<c>Groundwork:Tls:Password</c>).</summary>
    public string? Password { get; set; }

    /// <summary>
    /// The PEM file of the CA(s) that sign the cluster's certificates (<c>Groundwork:Tls:CaPath</c>), required with
    /// <see cref="CertificatePath"/>. The machine's trusted roots are never used: any public certificate would
    /// otherwise be accepted as a peer.
    /// </summary>
    public string? CaPath { get; set; }

    /// <summary>
    /// Whether a cluster may run without TLS between hosts (<c>Groundwork:Tls:AllowPlaintext</c>). Default false: a
    /// clustered silo reachable from other hosts refuses to start without TLS, because API keys and grain state would
    /// cross the network in clear. Set it only on a network that is itself encrypted.
    /// </summary>
    public bool AllowPlaintext { get; set; }

    /// <summary>Whether TLS is configured.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);

    /// <summary>Reads the settings from <paramref name="configuration"/>.</summary>
    public static TlsSettings From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var settings = new TlsSettings();
        configuration.GetSection(SectionName).Bind(settings);
        return settings;
    }

    /// <summary>Loads the certificate; a missing or unreadable file throws <see cref="TlsSettingsException"/> naming the setting.</summary>
    public X509Certificate2 LoadCertificate()
    {
        var path = Require(CertificatePath, "CertificatePath");
        try
        {
            if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
            {
                return X509CertificateLoader.LoadPkcs12FromFile(path, Password);
            }

            var pem = X509Certificate2.CreateFromPemFile(path, string.IsNullOrWhiteSpace(KeyPath) ? null : Require(KeyPath, "KeyPath"));
            // Re-import so the private key is usable by SslStream on every platform.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception exception) when (exception is System.Security.Cryptography.CryptographicException or ArgumentException or IOException)
        {
            throw new TlsSettingsException($"Groundwork:Tls:CertificatePath '{path}' could not be loaded ({exception.Message}): give a PEM certificate with Groundwork:Tls:KeyPath, or a .pfx.");
        }
    }

    /// <summary>The CA certificates of <see cref="CaPath"/>; throws <see cref="TlsSettingsException"/> when unset, missing or empty.</summary>
    public X509Certificate2Collection LoadAuthorities()
    {
        if (string.IsNullOrWhiteSpace(CaPath))
        {
            throw new TlsSettingsException("Groundwork:Tls:CaPath is not set: give the PEM of the cluster CA that signed every node's certificate (deploy/make-certs.sh writes ca.pem). The machine's roots are not trusted for cluster peers.");
        }

        var authorities = new X509Certificate2Collection();
        var path = Require(CaPath, "CaPath");
        try
        {
            authorities.ImportFromPemFile(path);
        }
        catch (Exception exception) when (exception is System.Security.Cryptography.CryptographicException or IOException)
        {
            throw new TlsSettingsException($"Groundwork:Tls:CaPath '{path}' could not be read ({exception.Message}): give the cluster CA's certificate as PEM.");
        }

        return authorities.Count > 0 ? authorities : throw new TlsSettingsException($"Groundwork:Tls:CaPath '{path}' holds no certificate: give the cluster CA's certificate as PEM.");
    }

    /// <summary>Loads every file once, so a bad setting fails at start with one clear message.</summary>
    public void Validate()
    {
        if (Enabled)
        {
            using var certificate = LoadCertificate();
            if (!certificate.HasPrivateKey)
            {
                throw new TlsSettingsException($"Groundwork:Tls:CertificatePath '{CertificatePath}' has no private key: set Groundwork:Tls:KeyPath.");
            }

            LoadAuthorities();
        }
        else if (!string.IsNullOrWhiteSpace(CaPath) || !string.IsNullOrWhiteSpace(KeyPath))
        {
            throw new TlsSettingsException("Groundwork:Tls:CaPath or KeyPath is set without Groundwork:Tls:CertificatePath: set the certificate too, or remove them.");
        }
    }

    /// <summary>Applies these settings to Orleans' TLS options: our certificate, mutual TLS, peers checked against the CA.</summary>
    public void Apply(TlsOptions options, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.LocalCertificate = certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        var authorities = LoadAuthorities();
        options.RemoteCertificateValidation = (remote, _, errors) => IsTrusted(remote, errors, authorities);
    }

    /// <summary>Whether <paramref name="remote"/> chains to one of <paramref name="authorities"/>; with none, nothing is trusted.</summary>
    public static bool IsTrusted(X509Certificate2? remote, SslPolicyErrors errors, X509Certificate2Collection authorities)
    {
        ArgumentNullException.ThrowIfNull(authorities);
        if (remote is null || authorities.Count == 0 || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // Never fetch what a peer's certificate points at (AIA issuer URLs) during a handshake.
        chain.ChainPolicy.DisableCertificateDownloads = true;
        return chain.Build(remote);
    }

    private static string Require(string? path, string setting) =>
        File.Exists(path) ? path : throw new TlsSettingsException($"Groundwork:Tls:{setting} '{path}' does not exist: give the path of the file, as mounted in this process.");
}

/// <summary>A TLS setting that cannot work; the message names the setting and the fix.</summary>
public sealed class TlsSettingsException(string message) : Exception(message);

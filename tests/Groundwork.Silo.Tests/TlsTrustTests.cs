using Xunit;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Groundwork.Transport;

namespace Groundwork.Silo.Tests;

/// <summary>
/// Which peer certificates a cluster accepts: only those signed by the cluster's own CA, never the machine's roots.
/// Certificates are made in memory for each case.
/// </summary>
public sealed class TlsTrustTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public void A_node_signed_by_the_cluster_CA_is_trusted()
    {
        using var ca = Authority("cluster CA");
        using var node = Node(ca, "node");
        Assert.True(TlsSettings.IsTrusted(node, SslPolicyErrors.RemoteCertificateChainErrors, [ca]));
    }

    [Fact]
    public void A_node_signed_by_another_CA_is_refused()
    {
        using var ca = Authority("cluster CA");
        using var other = Authority("someone else's CA");
        using var stranger = Node(other, "stranger");
        Assert.False(TlsSettings.IsTrusted(stranger, SslPolicyErrors.None, [ca]));
    }

    [Fact]
    public void A_self_signed_node_is_refused()
    {
        using var ca = Authority("cluster CA");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=groundwork-node", key, HashAlgorithmName.SHA256);
        using var selfSigned = request.CreateSelfSigned(Now.AddDays(-1), Now.AddDays(1));
        Assert.False(TlsSettings.IsTrusted(selfSigned, SslPolicyErrors.None, [ca]));
    }

    [Fact]
    public void An_expired_node_certificate_is_refused()
    {
        using var ca = Authority("cluster CA");
        using var expired = Node(ca, "node", Now.AddDays(-10), Now.AddDays(-1));
        Assert.False(TlsSettings.IsTrusted(expired, SslPolicyErrors.None, [ca]));
    }

    [Fact]
    public void Without_a_CA_nothing_is_trusted_not_even_a_certificate_the_machine_accepts()
    {
        using var ca = Authority("cluster CA");
        using var node = Node(ca, "node");
        Assert.False(TlsSettings.IsTrusted(node, SslPolicyErrors.None, []));
        Assert.False(TlsSettings.IsTrusted(null, SslPolicyErrors.None, [ca]));
    }

    [Fact]
    public void A_certificate_without_CaPath_is_a_setting_error_naming_CaPath()
    {
        var folder = Directory.CreateTempSubdirectory("gw-tls-").FullName;
        try
        {
            using var ca = Authority("cluster CA");
            using var node = Node(ca, "node");
            var pfx = Path.Combine(folder, "node.pfx");
            File.WriteAllBytes(pfx, node.Export(X509ContentType.Pkcs12));
            var settings = new TlsSettings { CertificatePath = pfx };

            var error = Assert.Throws<TlsSettingsException>(settings.Validate);
            Assert.Contains("Groundwork:Tls:CaPath is not set", error.Message, StringComparison.Ordinal);

            var caPath = Path.Combine(folder, "ca.pem");
            File.WriteAllText(caPath, ca.ExportCertificatePem());
            settings.CaPath = caPath;
            settings.Validate();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static X509Certificate2 Authority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(Now.AddDays(-30), Now.AddDays(30));
    }

    private static X509Certificate2 Node(X509Certificate2 authority, string name, DateTimeOffset? from = null, DateTimeOffset? until = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = RandomNumberGenerator.GetBytes(8);
        using var signed = request.Create(authority, from ?? Now.AddDays(-1), until ?? Now.AddDays(1), serial);
        return signed.CopyWithPrivateKey(key);
    }
}

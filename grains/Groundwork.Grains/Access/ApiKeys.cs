using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Groundwork.Grains.Access;

/// <summary>
/// The text form of credentials. Tenant keys: <c>gwk_{tenant}_{keyId}_{secret}</c>; the operator key:
/// <c>gwo_{secret}</c>. Secrets are 32 random bytes in lower-case hex; only their SHA-256 is stored.
/// </summary>
public static class ApiKeys
{
    /// <summary>The prefix of tenant keys.</summary>
    public const string TenantKeyPrefix = "gwk_";

    /// <summary>The prefix of operator keys.</summary>
    public const string OperatorKeyPrefix = "gwo_";

    private const int SecretBytes = 32;
    private const int KeyIdBytes = 6;

    /// <summary>A new operator key.</summary>
    public static string NewOperatorKey() => OperatorKeyPrefix + NewSecret(SecretBytes);

    /// <summary>A new tenant key for <paramref name="tenant"/>: the key id, the secret's hash to store, and the text to hand out once.</summary>
    public static (string KeyId, byte[] SecretHash, string Text) NewTenantKey(string tenant)
    {
        var keyId = NewSecret(KeyIdBytes);
        var secret = NewSecret(SecretBytes);
        return (keyId, Hash(secret), $"{TenantKeyPrefix}{tenant}_{keyId}_{secret}");
    }

    /// <summary>Splits a tenant key into its parts, without checking the secret.</summary>
    public static bool TryParseTenantKey(string? text, [NotNullWhen(true)] out string? tenant, [NotNullWhen(true)] out string? keyId, [NotNullWhen(true)] out string? secret)
    {
        tenant = keyId = secret = null;
        if (text is null || !text.StartsWith(TenantKeyPrefix, StringComparison.Ordinal) || text.Length > 256)
        {
            return false;
        }

        var parts = text[TenantKeyPrefix.Length..].Split('_');
        if (parts.Length != 3 || !TenantId.IsValid(parts[0]) || !IsHex(parts[1], KeyIdBytes) || !IsHex(parts[2], SecretBytes))
        {
            return false;
        }

        (tenant, keyId, secret) = (parts[0], parts[1], parts[2]);
        return true;
    }

    /// <summary>Whether <paramref name="text"/> has the operator key form.</summary>
    public static bool IsOperatorKeyForm(string? text) =>
        text is not null && text.StartsWith(OperatorKeyPrefix, StringComparison.Ordinal) && IsHex(text[OperatorKeyPrefix.Length..], SecretBytes);

    /// <summary>SHA-256 of a secret's text. Secrets are random and long, so a fast hash is the right one.</summary>
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private static string NewSecret(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    private static bool IsHex(string text, int bytes) =>
        text.Length == bytes * 2 && text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}

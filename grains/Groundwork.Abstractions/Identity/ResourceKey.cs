using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Groundwork;

/// <summary>
/// The key of a tenant-owned resource, written <c>{tenant}/{kind}/{name}</c> (for example <c>acme/list/groceries</c>).
/// Every resource grain is keyed by one; a string that does not parse is refused before any call is sent.
/// </summary>
public readonly partial record struct ResourceKey
{
    /// <summary>The longest accepted key, in characters.</summary>
    public const int MaxLength = 256;

    private ResourceKey(string tenant, string kind, string name)
    {
        Tenant = tenant;
        Kind = kind;
        Name = name;
    }

    /// <summary>The owning tenant's id (see <see cref="TenantId"/>).</summary>
    public string Tenant { get; }

    /// <summary>The resource kind, one of <see cref="ResourceKinds.All"/>.</summary>
    public string Kind { get; }

    /// <summary>The resource's name within its tenant and kind: 1-128 of <c>A-Z a-z 0-9 . _ -</c>.</summary>
    public string Name { get; }

    /// <summary>Builds a key from its parts, validating each.</summary>
    /// <exception cref="InvalidResourceKeyException">A part is malformed.</exception>
    public static ResourceKey Create(string tenant, string kind, string name) => Parse($"{tenant}/{kind}/{name}");

    /// <summary>Parses <c>{tenant}/{kind}/{name}</c>.</summary>
    /// <exception cref="InvalidResourceKeyException">The text is not a well-formed key; the message says why.</exception>
    public static ResourceKey Parse(string? text) =>
        TryParse(text, out var key, out var reason) ? key : throw new InvalidResourceKeyException(text ?? "", reason);

    /// <summary>Parses <c>{tenant}/{kind}/{name}</c> without throwing.</summary>
    public static bool TryParse(string? text, out ResourceKey key) => TryParse(text, out key, out _);

    /// <summary>Parses <c>{tenant}/{kind}/{name}</c> without throwing, saying why a key was refused.</summary>
    public static bool TryParse(string? text, out ResourceKey key, [NotNullWhen(false)] out string? reason)
    {
        key = default;
        if (string.IsNullOrEmpty(text))
        {
            reason = "the key is empty; expected {tenant}/{kind}/{name}";
            return false;
        }

        if (text.Length > MaxLength)
        {
            reason = $"the key is {text.Length} characters long; the limit is {MaxLength}";
            return false;
        }

        var parts = text.Split('/');
        if (parts.Length != 3)
        {
            reason = "expected three parts, {tenant}/{kind}/{name}";
            return false;
        }

        if (!TenantId.IsValid(parts[0], out reason))
        {
            return false;
        }

        if (!ResourceKinds.IsKnown(parts[1]))
        {
            reason = $"unknown resource kind '{parts[1]}'; known kinds: {string.Join(", ", ResourceKinds.All)}";
            return false;
        }

        if (!NamePattern().IsMatch(parts[2]))
        {
            reason = "the name must be 1-128 characters of A-Z a-z 0-9 . _ - and not start with '.'";
            return false;
        }

        key = new ResourceKey(parts[0], parts[1], parts[2]);
        reason = null;
        return true;
    }

    /// <summary>The key as text, <c>{tenant}/{kind}/{name}</c>: the grain's primary key.</summary>
    public override string ToString() => $"{Tenant}/{Kind}/{Name}";

    [GeneratedRegex("^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}

/// <summary>Tenant ids: 1-63 characters of lower-case letters, digits and '-', starting with a letter or digit.</summary>
public static partial class TenantId
{
    /// <summary>Whether <paramref name="tenant"/> is a well-formed tenant id.</summary>
    public static bool IsValid([NotNullWhen(true)] string? tenant) => IsValid(tenant, out _);

    /// <summary>Whether <paramref name="tenant"/> is a well-formed tenant id, and if not, why.</summary>
    public static bool IsValid([NotNullWhen(true)] string? tenant, [NotNullWhen(false)] out string? reason)
    {
        if (tenant is null || !Pattern().IsMatch(tenant))
        {
            reason = $"tenant id '{tenant}' must be 1-63 characters of a-z 0-9 '-', starting with a letter or digit";
            return false;
        }

        reason = null;
        return true;
    }

    /// <summary>Throws <see cref="InvalidResourceKeyException"/> unless <paramref name="tenant"/> is well formed.</summary>
    public static string Validate(string? tenant) =>
        IsValid(tenant, out var reason) ? tenant : throw new InvalidResourceKeyException(tenant ?? "", reason);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

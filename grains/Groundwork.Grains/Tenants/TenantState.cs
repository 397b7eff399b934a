using Groundwork.Access;

namespace Groundwork.Grains.Tenants;

/// <summary>The stored state of a tenant.</summary>
[GenerateSerializer, Alias("gw.state.tenant")]
public sealed class TenantState
{
    [Id(0)] public bool Created { get; set; }

    [Id(1)] public string DisplayName { get; set; } = "";

    [Id(2)] public DateTimeOffset CreatedAt { get; set; }

    [Id(3)] public Dictionary<string, TenantRole> Members { get; set; } = new(StringComparer.Ordinal);

    [Id(4)] public Dictionary<string, ApiKeyRecord> Keys { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>A stored API key: its secret's hash, never the secret.</summary>
[GenerateSerializer, Alias("gw.state.api-key")]
public sealed class ApiKeyRecord
{
    [Id(0)] public string Principal { get; set; } = "";

    [Id(1)] public KeyScope Scope { get; set; }

    [Id(2)] public string? Description { get; set; }

    [Id(3)] public byte[] SecretHash { get; set; } = [];

    [Id(4)] public DateTimeOffset CreatedAt { get; set; }

    [Id(5)] public DateTimeOffset? RevokedAt { get; set; }
}

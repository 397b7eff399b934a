using Groundwork.Access;
using Orleans.Concurrency;

namespace Groundwork.Tenants;

/// <summary>
/// A tenant: its members and their roles, and its API keys. Keyed by the tenant id (see <see cref="TenantId"/>).
/// Created by the operator; administered by its owners and admins.
/// </summary>
[Alias("gw.tenant"), TenantScoped]
public interface ITenantGrain : IGrainWithStringKey
{
    /// <summary>
    /// Creates the tenant with <paramref name="owner"/> as its first owner, and issues that owner's first key.
    /// </summary>
    /// <returns>The owner's key; its secret is shown only here.</returns>
    /// <exception cref="AlreadyExistsException">The tenant exists.</exception>
    [Alias("create"), Requires(Requirement.Operator)]
    Task<IssuedApiKey> CreateAsync(string displayName, string owner);

    /// <summary>The tenant's name and members.</summary>
    /// <exception cref="NotFoundException">The tenant does not exist.</exception>
    [Alias("get"), Requires(Requirement.Read), Safe]
    Task<TenantInfo> GetAsync();

    /// <summary>Who the caller's key acts as in this tenant, with its current role: what a product shows as "you".</summary>
    [Alias("whoami"), Requires(Requirement.Read), Safe]
    Task<CallerIdentity> WhoAmIAsync();

    /// <summary>Adds a member or changes a member's role. Only owners grant or take away <see cref="TenantRole.Owner"/>.</summary>
    [Alias("set-member"), Requires(Requirement.Admin)]
    Task SetMemberAsync(string principal, TenantRole role);

    /// <summary>Removes a member and revokes every key issued to it. The last owner cannot be removed.</summary>
    [Alias("remove-member"), Requires(Requirement.Admin)]
    Task RemoveMemberAsync(string principal);

    /// <summary>
    /// Issues an API key to a member. The key acts with the member's current role. An <see cref="KeyScope.Edge"/>
    /// key (issued by owners only) may also act for end users, each with their own role but never above the key
    /// holder's. Non-owners issue keys only for themselves or for members with a lower role.
    /// </summary>
    /// <returns>The key; its secret is shown only here (the tenant keeps a hash).</returns>
    [Alias("issue-key"), Requires(Requirement.Admin)]
    Task<IssuedApiKey> IssueKeyAsync(string principal, KeyScope scope, string? description = null);

    /// <summary>
    /// Revokes a key. Silos stop accepting it, and end the feeds opened with it, within the credential cache
    /// lifetime (30 s by default). Non-owners revoke only their own keys and those of members with a lower role.
    /// </summary>
    [Alias("revoke-key"), Requires(Requirement.Admin)]
    Task RevokeKeyAsync(string keyId);

    /// <summary>The tenant's keys, without secrets.</summary>
    [Alias("keys"), Requires(Requirement.Admin), Safe]
    Task<IReadOnlyList<ApiKeyInfo>> GetKeysAsync();

    /// <summary>
    /// Checks a key's secret: used by the silo's access filter. Answers only to the holder of the secret,
    /// so it needs no credential of its own.
    /// </summary>
    /// <param name="keyId">The key id from the key text.</param>
    /// <param name="secretHash">SHA-256 of the key's secret.</param>
    /// <param name="onBehalfOf">The end user an edge key acts for, if any.</param>
    [Alias("verify-key"), Requires(Requirement.None), AlwaysInterleave]
    Task<KeyVerification> VerifyKeyAsync(string keyId, byte[] secretHash, string? onBehalfOf);
}

/// <summary>Who a key acts as.</summary>
/// <param name="Tenant">The tenant.</param>
/// <param name="Principal">The principal (the end user, for an edge key acting for one).</param>
/// <param name="Role">Its tenant role; null for an end user who is not a member.</param>
[GenerateSerializer, Immutable, Alias("gw.caller-identity")]
public sealed record CallerIdentity(
    [property: Id(0)] string Tenant,
    [property: Id(1)] string Principal,
    [property: Id(2)] TenantRole? Role);

/// <summary>A tenant's public description.</summary>
[GenerateSerializer, Immutable, Alias("gw.tenant-info")]
public sealed record TenantInfo(
    [property: Id(0)] string Id,
    [property: Id(1)] string DisplayName,
    [property: Id(2)] IReadOnlyDictionary<string, TenantRole> Members,
    [property: Id(3)] DateTimeOffset CreatedAt);

/// <summary>A key just issued. <see cref="Key"/> is the whole secret text: keep it, it is never shown again.</summary>
[GenerateSerializer, Immutable, Alias("gw.issued-key")]
public sealed record IssuedApiKey(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string Key,
    [property: Id(2)] string Principal,
    [property: Id(3)] KeyScope Scope,
    [property: Id(4)] string? Holder = null,
    [property: Id(5)] TenantRole? HolderRole = null);

/// <summary>A key as listed, without its secret.</summary>
[GenerateSerializer, Immutable, Alias("gw.key-info")]
public sealed record ApiKeyInfo(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string Principal,
    [property: Id(2)] KeyScope Scope,
    [property: Id(3)] string? Description,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset? RevokedAt);

/// <summary>
/// The result of checking a key: the principal it acts as (the end user, for an edge key acting for one) with
/// that principal's current tenant role (none for an end user who is not a member), or why it is refused.
/// </summary>
[GenerateSerializer, Immutable, Alias("gw.key-verification")]
public sealed record KeyVerification(
    [property: Id(0)] AccessDenialReason? Refusal,
    [property: Id(1)] string? Principal,
    [property: Id(2)] TenantRole? Role,
    [property: Id(3)] KeyScope Scope,
    [property: Id(4)] string? Holder = null,
    [property: Id(5)] TenantRole? HolderRole = null);

using System.Security.Cryptography;
using Groundwork.Access;
using Groundwork.Grains.Access;
using Groundwork.Tenants;
using Microsoft.Extensions.Options;

namespace Groundwork.Grains.Tenants;

/// <summary>A tenant's members, roles and API keys.</summary>
public sealed class TenantGrain(
    [PersistentState(StorageNames.Tenant, StorageNames.Provider)] IPersistentState<TenantState> state,
    IOptions<TenantOptions> options,
    TimeProvider time) : TenantScopedGrain, ITenantGrain
{
    private readonly TenantOptions _limits = options.Value;


    private TenantState State => state.State;

    /// <inheritdoc/>
    public async Task<IssuedApiKey> CreateAsync(string displayName, string owner)
    {
        if (State.Created)
        {
            throw new AlreadyExistsException("tenant", this.GetPrimaryKeyString());
        }

        if (displayName is { Length: > 0 } && displayName.Length > _limits.MaxDisplayNameLength)
        {
            throw new LimitExceededException($"Tenants:{nameof(TenantOptions.MaxDisplayNameLength)}", _limits.MaxDisplayNameLength, displayName.Length);
        }

        if (string.IsNullOrWhiteSpace(displayName))
        {
            throw new InvalidRequestException(nameof(displayName), "must not be empty or only spaces");
        }

        Principal.Validate(owner, nameof(owner));
        State.Created = true;
        State.DisplayName = displayName;
        State.CreatedAt = time.GetUtcNow();
        State.Members[owner] = TenantRole.Owner;
        var issued = AddKey(owner, KeyScope.Standard, "first owner key");
        await SaveAsync();
        return issued;
    }

    /// <inheritdoc/>
    public Task<TenantInfo> GetAsync()
    {
        EnsureCreated();
        return Task.FromResult(new TenantInfo(this.GetPrimaryKeyString(), State.DisplayName,
            new Dictionary<string, TenantRole>(State.Members), State.CreatedAt));
    }

    /// <inheritdoc/>
    public Task<CallerIdentity> WhoAmIAsync()
    {
        EnsureCreated();
        var caller = CallerContext.Current;
        return Task.FromResult(new CallerIdentity(this.GetPrimaryKeyString(), caller?.Principal ?? "system", caller?.Role));
    }

    /// <inheritdoc/>
    public async Task SetMemberAsync(string principal, TenantRole role)
    {
        EnsureCreated();
        Principal.Validate(principal);
        if (!Enum.IsDefined(role))
        {
            throw new InvalidRequestException(nameof(role), $"unknown role {(int)role}");
        }

        var current = State.Members.GetValueOrDefault(principal);
        if (role == TenantRole.Owner || current == TenantRole.Owner)
        {
            RequireOwner($"changing owners");
        }

        // Non-owners manage only members below them, and grant only roles below their own: an admin cannot demote,
        // re-key and re-promote a peer to act in its name.
        if (current != 0)
        {
            RequireAuthorityOver(principal, current, "changing the role of");
        }

        RequireAuthorityOver(principal, role, "granting a role to", allowSelf: false);

        if (current == TenantRole.Owner && role != TenantRole.Owner && OwnerCount() == 1)
        {
            throw new InvalidRequestException(nameof(role), $"'{principal}' is the last owner");
        }

        if (current == 0 && State.Members.Count >= _limits.MaxMembers)
        {
            throw new LimitExceededException($"Tenants:{nameof(TenantOptions.MaxMembers)}", _limits.MaxMembers, State.Members.Count + 1);
        }

        State.Members[principal] = role;
        await SaveAsync();
    }

    /// <inheritdoc/>
    public async Task RemoveMemberAsync(string principal)
    {
        EnsureCreated();
        if (!State.Members.TryGetValue(principal, out var role))
        {
            throw new NotFoundException("member", principal);
        }

        if (role == TenantRole.Owner)
        {
            RequireOwner("removing an owner");
            if (OwnerCount() == 1)
            {
                throw new InvalidRequestException(nameof(principal), $"'{principal}' is the last owner");
            }
        }

        RequireAuthorityOver(principal, role, "removing");

        State.Members.Remove(principal);
        var now = time.GetUtcNow();
        foreach (var key in State.Keys.Values.Where(k => k.Principal == principal && k.RevokedAt is null))
        {
            key.RevokedAt = now;
        }

        await SaveAsync();
    }

    /// <inheritdoc/>
    public async Task<IssuedApiKey> IssueKeyAsync(string principal, KeyScope scope, string? description = null)
    {
        EnsureCreated();
        if (!State.Members.TryGetValue(Principal.Validate(principal), out var role))
        {
            throw new NotFoundException("member", principal);
        }

        if (!Enum.IsDefined(scope))
        {
            throw new InvalidRequestException(nameof(scope), $"unknown scope {(int)scope}");
        }

        // An edge key may act for any end user (capped at its holder's role), so only owners hand them out.
        if (scope == KeyScope.Edge)
        {
            RequireOwner("issuing an edge key");
        }

        RequireAuthorityOver(principal, role, "issuing a key for");

        if (description is not null && description.Length > _limits.MaxKeyDescriptionLength)
        {
            throw new LimitExceededException($"Tenants:{nameof(TenantOptions.MaxKeyDescriptionLength)}", _limits.MaxKeyDescriptionLength, description.Length);
        }

        if (State.Keys.Count >= _limits.MaxKeys)
        {
            throw new LimitExceededException($"Tenants:{nameof(TenantOptions.MaxKeys)}", _limits.MaxKeys, State.Keys.Count + 1);
        }

        var issued = AddKey(principal, scope, description);
        await SaveAsync();
        return issued;
    }

    /// <inheritdoc/>
    public async Task RevokeKeyAsync(string keyId)
    {
        EnsureCreated();
        if (keyId is null || !State.Keys.TryGetValue(keyId, out var key))
        {
            throw new NotFoundException("key", keyId ?? "");
        }

        RequireAuthorityOver(key.Principal, State.Members.GetValueOrDefault(key.Principal), "revoking a key of");
        if (key.RevokedAt is null)
        {
            key.RevokedAt = time.GetUtcNow();
            await SaveAsync();
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ApiKeyInfo>> GetKeysAsync()
    {
        EnsureCreated();
        IReadOnlyList<ApiKeyInfo> keys = State.Keys
            .Select(k => new ApiKeyInfo(k.Key, k.Value.Principal, k.Value.Scope, k.Value.Description, k.Value.CreatedAt, k.Value.RevokedAt))
            .OrderBy(k => k.CreatedAt)
            .ToList();
        return Task.FromResult(keys);
    }

    /// <inheritdoc/>
    public Task<KeyVerification> VerifyKeyAsync(string keyId, byte[] secretHash, string? onBehalfOf)
    {
        if (!State.Created)
        {
            // A key naming a tenant that does not exist: answer, and leave no activation behind.
            DeactivateOnIdle();
            return Refuse(AccessDenialReason.UnknownCredential);
        }

        if (keyId is null || secretHash is null || !State.Keys.TryGetValue(keyId, out var key) ||
            !CryptographicOperations.FixedTimeEquals(key.SecretHash, secretHash))
        {
            return Refuse(AccessDenialReason.UnknownCredential);
        }

        if (key.RevokedAt is not null || !State.Members.TryGetValue(key.Principal, out var role))
        {
            return Refuse(AccessDenialReason.RevokedCredential);
        }

        if (onBehalfOf is null)
        {
            return Task.FromResult(new KeyVerification(null, key.Principal, role, key.Scope));
        }

        if (key.Scope != KeyScope.Edge)
        {
            return Refuse(AccessDenialReason.OnBehalfOfNotAllowed);
        }

        // The end user's own role, but never more than the edge key's holder has.
        TenantRole? userRole = State.Members.TryGetValue(onBehalfOf, out var r) ? (TenantRole)Math.Min((int)r, (int)role) : null;
        return Task.FromResult(new KeyVerification(null, onBehalfOf, userRole, key.Scope, key.Principal, role));

        static Task<KeyVerification> Refuse(AccessDenialReason reason) =>
            Task.FromResult(new KeyVerification(reason, null, null, KeyScope.Standard));
    }

    private IssuedApiKey AddKey(string principal, KeyScope scope, string? description)
    {
        var (keyId, hash, text) = ApiKeys.NewTenantKey(this.GetPrimaryKeyString());
        State.Keys[keyId] = new ApiKeyRecord
        {
            Principal = principal,
            Scope = scope,
            Description = description,
            SecretHash = hash,
            CreatedAt = time.GetUtcNow(),
        };
        return new IssuedApiKey(keyId, text, principal, scope);
    }

    private void EnsureCreated()
    {
        if (!State.Created)
        {
            DeactivateOnIdle(); // nothing to keep in memory for a tenant that does not exist
            throw new NotFoundException("tenant", this.GetPrimaryKeyString());
        }
    }

    private int OwnerCount() => State.Members.Values.Count(r => r == TenantRole.Owner);

    /// <summary>
    /// Owners (and the operator) may act on anyone; others only on themselves (with their full role), or on members
    /// with a lower role, so an admin cannot mint a key in another admin's name, revoke an owner's, or take over a peer.
    /// </summary>
    private static void RequireAuthorityOver(string principal, TenantRole role, string what, bool allowSelf = true)
    {
        if (CallerContext.Current is not { } caller || caller.IsOperator || caller.Role == TenantRole.Owner)
        {
            return;
        }

        // Acting on oneself is fine only with one's own full role: an edge key acting for an owner is capped below
        // it, and must not mint or revoke that owner's keys.
        if (allowSelf && caller.Principal == principal && caller.Role >= role)
        {
            return;
        }

        if (caller.Role is not { } own || role >= own)
        {
            throw new AccessDeniedException(AccessDenialReason.InsufficientRole,
                $"{what} '{principal}' ({role}) needs a higher role than '{caller.Principal}' has ({caller.Role?.ToString() ?? "none"})");
        }
    }

    private static void RequireOwner(string what)
    {
        if (CallerContext.Current is { } caller && !caller.IsOperator && caller.Role != TenantRole.Owner)
        {
            throw new AccessDeniedException(AccessDenialReason.InsufficientRole, $"{what} needs the Owner role");
        }
    }

    private async Task SaveAsync()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Memory may now differ from storage: start again from what is stored.
            DeactivateOnIdle();
            throw;
        }
    }
}

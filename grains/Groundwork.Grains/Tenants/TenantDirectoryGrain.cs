using Groundwork.Access;
using Groundwork.Grains.Access;
using Groundwork.Tenants;

namespace Groundwork.Grains.Tenants;

/// <summary>The stored state of a tenant directory.</summary>
[GenerateSerializer, Alias("gw.state.directory")]
public sealed class TenantDirectoryState
{
    [Id(0)] public Dictionary<string, ResourceEntry> Entries { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The resources of one tenant, recorded by the resources themselves when created or renamed.</summary>
public sealed class TenantDirectoryGrain(
    [PersistentState(StorageNames.Directory, StorageNames.Provider)] IPersistentState<TenantDirectoryState> state)
    : Grain, ITenantDirectoryGrain, IAccessControlled
{
    /// <summary>The most resources one tenant directory records.</summary>
    public const int MaxEntries = 100_000;

    /// <inheritdoc/>
    public string? Tenant => TenantId.IsValid(this.GetPrimaryKeyString()) ? this.GetPrimaryKeyString() : null;

    /// <inheritdoc/>
    public InvalidResourceKeyException? KeyError =>
        TenantId.IsValid(this.GetPrimaryKeyString(), out var reason) ? null : new InvalidResourceKeyException(this.GetPrimaryKeyString(), reason);

    /// <inheritdoc/>
    public AccessList? AccessList => null;

    /// <inheritdoc/>
    public async Task RegisterAsync(ResourceEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var key = ResourceKey.Parse(entry.Key);
        if (key.Tenant != Tenant || key.Kind != entry.Kind)
        {
            throw new InvalidRequestException(nameof(entry), $"'{entry.Key}' is not a {entry.Kind} of tenant '{Tenant}'");
        }

        var entries = state.State.Entries;
        if (entries.TryGetValue(entry.Key, out var existing))
        {
            if (existing.Title == entry.Title)
            {
                return;
            }

            entry = existing with { Title = entry.Title };
        }
        else if (entries.Count >= MaxEntries)
        {
            throw new LimitExceededException("Tenants:MaxDirectoryEntries", MaxEntries, entries.Count + 1);
        }

        entries[entry.Key] = entry;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            DeactivateOnIdle();
            throw;
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<ResourceEntry>> ListAsync(string? kind = null)
    {
        IReadOnlyList<ResourceEntry> result = state.State.Entries.Values
            .Where(e => kind is null || e.Kind == kind)
            .OrderBy(e => e.Key, StringComparer.Ordinal)
            .ToList();
        return Task.FromResult(result);
    }
}

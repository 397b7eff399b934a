using System.Reflection;
using Groundwork.Access;
using Groundwork.Tenants;

namespace Groundwork;

/// <summary>One durable change of a resource, as its feed delivers it.</summary>
public interface IChange
{
    /// <summary>The resource's version after this change: consecutive, starting at 1.</summary>
    long Sequence { get; }

    /// <summary>When the change was made (silo clock; it labels, it does not order).</summary>
    DateTimeOffset At { get; }

    /// <summary>The principal that made it.</summary>
    string By { get; }
}

/// <summary>Helpers for lists of changes in sequence order.</summary>
public static class ChangeList
{
    /// <summary>The index of the first change after <paramref name="cursor"/> in <paramref name="changes"/> (in sequence order), by bisection; the count when there is none.</summary>
    public static int IndexAfter<TChange>(IReadOnlyList<TChange> changes, long cursor)
        where TChange : IChange
    {
        ArgumentNullException.ThrowIfNull(changes);
        int low = 0, high = changes.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (changes[middle].Sequence <= cursor)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}

/// <summary>A resource with a change feed: every mutation appends one change, and watchers follow them.</summary>
/// <typeparam name="TChange">The resource's change type.</typeparam>
[Alias("gw.feed`1")]
public interface IFeedResource<TChange> : IDirectoryResource
    where TChange : IChange
{
    /// <summary>
    /// The changes after <paramref name="afterSequence"/>: the retained ones first, then live ones as they happen,
    /// in order, without gaps. Watch from a snapshot's version to follow it.
    /// </summary>
    /// <remarks>
    /// The enumeration ends with an <c>EnumerationAbortedException</c> when the resource deactivates or its silo
    /// stops: reopen from the last sequence seen (Groundwork.Client's <c>WatchAsync</c> does this for you).
    /// </remarks>
    /// <exception cref="ResyncRequiredException">
    /// The cursor has fallen out of retention (or is past the current version): read a snapshot and watch again.
    /// </exception>
    /// <exception cref="AccessDeniedException">
    /// The caller may no longer read the resource: its access changed, or its key was revoked (noticed within the
    /// credential cache lifetime). The feed ends; it does not reconnect.
    /// </exception>
    [Alias("watch"), Requires(Requirement.Read), Safe]
    IAsyncEnumerable<TChange> WatchAsync(long afterSequence, CancellationToken cancellationToken = default);
}

/// <summary>
/// Marks a grain interface as a building block's resource: grains are keyed <c>{tenant}/{kind}/{name}</c>, appear in
/// the tenant directory, and the kind names their stored state, metrics (<see cref="Block"/>) and options.
/// </summary>
/// <param name="kind">The kind in keys: lower-case letters, e.g. <c>list</c>.</param>
/// <param name="block">The block's name in metrics and configuration, e.g. <c>lists</c> (<c>Groundwork:Lists</c>).</param>
[AttributeUsage(AttributeTargets.Interface, Inherited = false)]
public sealed class ResourceKindAttribute(string kind, string block) : Attribute
{
    /// <summary>The kind in keys.</summary>
    public string Kind { get; } = kind;

    /// <summary>The block's name in metrics (tag <c>block</c>) and configuration.</summary>
    public string Block { get; } = block;
}

/// <summary>Marks a grain interface keyed by a tenant id (not by a resource key), such as the tenant and its directory.</summary>
[AttributeUsage(AttributeTargets.Interface, Inherited = false)]
public sealed class TenantScopedAttribute : Attribute;

/// <summary>Optional guards on a mutation.</summary>
/// <param name="ExpectedVersion">Apply only if the resource is at this version; otherwise <see cref="VersionConflictException"/>.</param>
/// <param name="OperationId">
/// An id for this operation (1-128 characters), unique per resource. A retry with the same id returns the first
/// result and changes nothing again, for at least the last 1,000 operations or 10 minutes.
/// </param>
[GenerateSerializer, Immutable, Alias("gw.mutation-options")]
public sealed record MutationOptions(
    [property: Id(0)] long? ExpectedVersion = null,
    [property: Id(1)] string? OperationId = null);

/// <summary>What a mutation did.</summary>
/// <param name="Version">The version the mutation produced (its change's sequence number).</param>
/// <param name="Id">The element that was added or changed (a list item, a message), if any.</param>
/// <param name="Count">How many elements it affected.</param>
/// <param name="Replayed">True when this is the remembered result of an earlier call with the same operation id.</param>
[GenerateSerializer, Immutable, Alias("gw.mutation-result")]
public sealed record MutationResult(
    [property: Id(0)] long Version,
    [property: Id(1)] string? Id = null,
    [property: Id(2)] int Count = 1,
    [property: Id(3)] bool Replayed = false);

/// <summary>The resource kinds of the contract, read from <see cref="ResourceKindAttribute"/> on its interfaces.</summary>
public static class ResourceKinds
{
    private static readonly Dictionary<string, (Type Interface, ResourceKindAttribute Attribute)> ByKind =
        typeof(ResourceKinds).Assembly.GetTypes()
            .Where(t => t.IsInterface && t.GetCustomAttribute<ResourceKindAttribute>() is not null)
            .ToDictionary(t => t.GetCustomAttribute<ResourceKindAttribute>()!.Kind, t => (t, t.GetCustomAttribute<ResourceKindAttribute>()!), StringComparer.Ordinal);

    /// <summary>Every known kind, ordered.</summary>
    public static IReadOnlyList<string> All { get; } = [.. ByKind.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Whether <paramref name="kind"/> is a known kind.</summary>
    public static bool IsKnown(string kind) => ByKind.ContainsKey(kind);

    /// <summary>The grain interface of <paramref name="kind"/>.</summary>
    /// <exception cref="KeyNotFoundException">The kind is not known.</exception>
    public static Type InterfaceOf(string kind) => ByKind[kind].Interface;

    /// <summary>The block name (metrics, configuration) of <paramref name="kind"/>.</summary>
    public static string BlockOf(string kind) => ByKind[kind].Attribute.Block;

    /// <summary>The declaration on <paramref name="grainInterface"/> or on an interface it extends; null if none.</summary>
    public static ResourceKindAttribute? Of(Type grainInterface)
    {
        ArgumentNullException.ThrowIfNull(grainInterface);
        // Asked on every call a client makes: reflection once per interface.
        return Declared.GetOrAdd(grainInterface, static type =>
            type.GetCustomAttribute<ResourceKindAttribute>() ??
            type.GetInterfaces().Select(i => i.GetCustomAttribute<ResourceKindAttribute>()).FirstOrDefault(a => a is not null));
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, ResourceKindAttribute?> Declared = new();

    /// <summary>The kind of <typeparamref name="TGrain"/>.</summary>
    public static string Of<TGrain>() where TGrain : IGrainWithStringKey =>
        Of(typeof(TGrain))?.Kind ?? throw new InvalidOperationException($"{typeof(TGrain).Name} declares no [ResourceKind]");
}

/// <summary>Getting resource grains by key.</summary>
public static class ResourceGrainFactoryExtensions
{
    /// <summary>The resource at <paramref name="key"/>, whose kind must be <typeparamref name="TGrain"/>'s.</summary>
    /// <exception cref="InvalidResourceKeyException">The key names another kind: nothing is sent.</exception>
    public static TGrain GetResource<TGrain>(this IGrainFactory factory, ResourceKey key) where TGrain : IGrainWithStringKey
    {
        ArgumentNullException.ThrowIfNull(factory);
        var kind = ResourceKinds.Of<TGrain>();
        if (key.Kind != kind)
        {
            throw new InvalidResourceKeyException(key.ToString(), $"expected a '{kind}' key");
        }

        return factory.GetGrain<TGrain>(key.ToString());
    }

    /// <summary>The resource at <paramref name="key"/> (<c>{tenant}/{kind}/{name}</c>), parsed first.</summary>
    /// <exception cref="InvalidResourceKeyException">The key is malformed or names another kind: nothing is sent.</exception>
    public static TGrain GetResource<TGrain>(this IGrainFactory factory, string key) where TGrain : IGrainWithStringKey =>
        factory.GetResource<TGrain>(ResourceKey.Parse(key));

    /// <summary>Any resource at <paramref name="key"/>, as the directory sees it.</summary>
    public static IDirectoryResource GetDirectoryResource(this IGrainFactory factory, ResourceKey key)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return (IDirectoryResource)factory.GetGrain(ResourceKinds.InterfaceOf(key.Kind), key.ToString());
    }
}

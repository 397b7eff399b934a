using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Metadata;
using Orleans.Serialization.TypeSystem;

namespace Groundwork.Transport;

/// <summary>
/// Remembers the <see cref="GrainInterfaceType"/> of each grain interface. Orleans 10.4's
/// <see cref="GrainInterfaceTypeResolver"/> finds it anew on every <c>GetGrain</c>, by reading the interface's
/// attributes through reflection: about a tenth of the silo's CPU per gateway request in a profile
/// (docs/design/call-path.md). The answer for a type never changes, so it is resolved once, by Orleans' own resolver
/// over the providers Orleans registered, and kept.
/// </summary>
public sealed class GrainInterfaceTypeCache : IGrainInterfaceTypeProvider
{
    private readonly ConcurrentDictionary<Type, GrainInterfaceType> _types = new();
    private readonly Func<Type, GrainInterfaceType> _resolve;

    /// <summary>Caches what <paramref name="inner"/> resolves.</summary>
    public GrainInterfaceTypeCache(GrainInterfaceTypeResolver inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _resolve = inner.GetGrainInterfaceType;
    }

    /// <summary>How many interfaces have been resolved (bounded by the grain interfaces loaded).</summary>
    public int Count => _types.Count;

    /// <inheritdoc />
    public bool TryGetGrainInterfaceType(Type type, out GrainInterfaceType grainInterfaceType)
    {
        // The resolver wrapping this provider checks that the type is an interface before asking.
        grainInterfaceType = _types.GetOrAdd(type, _resolve);
        return true;
    }

    /// <summary>
    /// Replaces Orleans' <see cref="GrainInterfaceTypeResolver"/> with one that asks a <see cref="GrainInterfaceTypeCache"/>
    /// first, built over the providers registered in <paramref name="services"/> (call it after Orleans' defaults, as
    /// inside <c>UseOrleans</c> or <c>UseOrleansClient</c>). Answers are the same as Orleans' own.
    /// </summary>
    public static IServiceCollection AddTo(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(GrainInterfaceTypeCache)))
        {
            return services;
        }

        services.AddSingleton(sp => new GrainInterfaceTypeCache(new GrainInterfaceTypeResolver(
            sp.GetServices<IGrainInterfaceTypeProvider>(), sp.GetRequiredService<TypeConverter>())));
        services.RemoveAll<GrainInterfaceTypeResolver>();
        services.AddSingleton(sp => new GrainInterfaceTypeResolver(
            [sp.GetRequiredService<GrainInterfaceTypeCache>()], sp.GetRequiredService<TypeConverter>()));
        return services;
    }
}

using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Groundwork.Grains.Resources;

/// <summary>
/// Injects a grain's <see cref="IResource{THead, TChange}"/>, as <c>[PersistentState]</c> injects a state. The kind comes
/// from the <see cref="ResourceKindAttribute"/> on the grain's contract interface.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class ResourceAttribute : Attribute, IFacetMetadata;

/// <summary>Builds the <see cref="ResourceCore{THead, TChange}"/> for a <see cref="ResourceAttribute"/> parameter.</summary>
internal sealed class ResourceAttributeMapper : IAttributeToFactoryMapper<ResourceAttribute>
{
    public Factory<IGrainContext, object> GetFactory(ParameterInfo parameter, ResourceAttribute metadata)
    {
        var type = parameter.ParameterType;
        if (!type.IsGenericType || type.GetGenericTypeDefinition() != typeof(IResource<,>))
        {
            throw new ArgumentException($"[Resource] parameter '{parameter.Name}' of {parameter.Member.DeclaringType} must be an IResource<THead, TChange>", parameter.Name);
        }

        var grain = parameter.Member.DeclaringType!;
        var kind = grain.GetInterfaces().Select(ResourceKinds.Of).FirstOrDefault(k => k is not null)?.Kind
                   ?? throw new ArgumentException($"{grain.Name} implements no interface with [ResourceKind]", parameter.Name);
        var core = typeof(ResourceCore<,>).MakeGenericType(type.GetGenericArguments());
        // Made with the first activation (its services are the silo's) and shared by all; two made at once are alike.
        ResourceServices? shared = null;
        return context => Activator.CreateInstance(core, context, shared ??= new ResourceServices(kind, context.ActivationServices))!;
    }
}

/// <summary>Registering the building blocks' options, found by their base class.</summary>
public static class ResourceBlocks
{
    /// <summary>The prefix of a block's limit names, e.g. <c>Lists</c> for <c>lists</c>.</summary>
    public static string LimitPrefix(string block)
    {
        ArgumentException.ThrowIfNullOrEmpty(block);
        return char.ToUpper(block[0], CultureInfo.InvariantCulture) + block[1..];
    }

    /// <summary>The configuration section of a block's options, e.g. <c>Groundwork:Lists</c>.</summary>
    public static string SectionOf(string block) => "Groundwork:" + LimitPrefix(block);

    /// <summary>
    /// Binds every <see cref="ResourceOptions"/> type of the assembly to <c>Groundwork:{Block}</c> (the block named by its
    /// <see cref="BlockOptionsAttribute"/>), validates it at start (data annotations), and offers it to the resource core.
    /// </summary>
    public static IServiceCollection AddBuildingBlocks(this IServiceCollection services, IConfiguration configuration, Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var add = typeof(ResourceBlocks).GetMethod(nameof(AddBlock), BindingFlags.NonPublic | BindingFlags.Static)!;
        foreach (var type in assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(ResourceOptions)) && !t.IsAbstract))
        {
            var block = type.GetCustomAttribute<BlockOptionsAttribute>()?.Block
                        ?? throw new InvalidOperationException($"{type.Name} needs [BlockOptions(\"block\")]");
            add.MakeGenericMethod(type).Invoke(null, [services, configuration, block]);
        }

        services.AddSingleton<IAttributeToFactoryMapper<ResourceAttribute>, ResourceAttributeMapper>();
        return services;
    }

    private static void AddBlock<TOptions>(IServiceCollection services, IConfiguration configuration, string block) where TOptions : ResourceOptions
    {
        services.AddOptions<TOptions>()
            .Bind(configuration.GetSection(SectionOf(block)))
            .ValidateDataAnnotations()
            .Validate(o => o.IdempotencyMaxEntries >= o.IdempotencyMinEntries && o.IdempotencyWindow >= TimeSpan.Zero,
                $"{SectionOf(block)}:IdempotencyMaxEntries must be at least IdempotencyMinEntries, and IdempotencyWindow not negative")
            .ValidateOnStart();
        services.AddKeyedSingleton<ResourceOptions>(block, (sp, _) => sp.GetRequiredService<IOptions<TOptions>>().Value);
    }
}

/// <summary>Names the block a <see cref="ResourceOptions"/> type configures (its <see cref="ResourceKindAttribute.Block"/>).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class BlockOptionsAttribute(string block) : Attribute
{
    /// <summary>The block, e.g. <c>lists</c>.</summary>
    public string Block { get; } = block;
}

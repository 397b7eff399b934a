using Groundwork.Grains.Access;
using Groundwork.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Groundwork.Grains.Resources;

/// <summary>
/// What every activation of one resource kind shares: its names, options and services. Made once per kind and silo
/// (by the <c>[Resource]</c> factory), so an idle activation holds one reference to it instead of a dozen fields.
/// </summary>
internal sealed class ResourceServices
{
    public ResourceServices(string kind, IServiceProvider services)
    {
        Kind = kind;
        Block = ResourceKinds.BlockOf(kind);
        BlockTag = new("block", Block);
        Limits = services.GetRequiredKeyedService<ResourceOptions>(Block);
        LimitPrefix = ResourceBlocks.LimitPrefix(Block);
        Store = services.GetRequiredService<IResourceStore>();
        Serializer = services.GetRequiredService<JsonStateSerializer>();
        Verifier = services.GetRequiredService<CredentialVerifier>();
        WatcherCount = services.GetRequiredService<WatcherCount>();
        Time = services.GetRequiredService<TimeProvider>();
        Logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Groundwork.Grains.Resources." + Block);
        RecheckAccessEvery = WatcherCredential.RecheckEvery(services.GetRequiredService<IOptions<AccessOptions>>().Value);
    }

    /// <summary>The resource kind (<c>list</c>), also the state name in storage.</summary>
    public string Kind { get; }

    /// <summary>The block (<c>lists</c>).</summary>
    public string Block { get; }

    /// <summary>The metrics tag naming the block.</summary>
    public KeyValuePair<string, object?> BlockTag { get; }

    /// <summary>The block's options.</summary>
    public ResourceOptions Limits { get; }

    /// <summary>The prefix of the block's limit names (<c>Lists</c>).</summary>
    public string LimitPrefix { get; }

    public IResourceStore Store { get; }

    public JsonStateSerializer Serializer { get; }

    public CredentialVerifier Verifier { get; }

    public WatcherCount WatcherCount { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    /// <summary>How often a watcher's credential is verified again.</summary>
    public TimeSpan RecheckAccessEvery { get; }
}

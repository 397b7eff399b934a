using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Groundwork.Testing;

/// <summary>
/// An attacker's Orleans client: plain <c>UseOrleansClient</c> with the contract and Orleans' own assemblies, no
/// Groundwork.Client (no credential filter, no client-side checks). It sets request-context entries itself and can
/// call Orleans' internal system targets and extensions by reflection, as anyone who reaches the gateway port can.
/// </summary>
public sealed class RawClient : IAsyncDisposable
{
    private readonly IHost _host;

    private RawClient(IHost host) => _host = host;

    /// <summary>The connected client.</summary>
    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    /// <summary>The client's services (its serializer, its view of the cluster manifest).</summary>
    public IServiceProvider Services => _host.Services;

    /// <summary>Connects to the embedded silo's gateway on <paramref name="gatewayPort"/>.</summary>
    public static Task<RawClient> ConnectAsync(int gatewayPort, string clusterId = "groundwork", string serviceId = "groundwork") =>
        ConnectAsync(client => client.UseLocalhostClustering(gatewayPort, serviceId, clusterId));

    /// <summary>Connects with <paramref name="configure"/> choosing the gateways (and TLS, for a cluster).</summary>
    public static async Task<RawClient> ConnectAsync(Action<IClientBuilder> configure, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.UseOrleansClient(client =>
        {
            configure(client);
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(20));
        });
        var host = builder.Build();
        await host.StartAsync();
        return new RawClient(host);
    }

    /// <summary>Runs <paramref name="call"/> with <paramref name="apiKey"/> (or no key) in the request context, as set by hand.</summary>
    public static async Task<T> WithKeyAsync<T>(string? apiKey, Func<Task<T>> call, string? onBehalfOf = null)
    {
        RequestContext.Clear();
        if (apiKey is not null)
        {
            RequestContext.Set("gw-key", apiKey);
        }

        if (onBehalfOf is not null)
        {
            RequestContext.Set("gw-obo", onBehalfOf);
        }

        try
        {
            return await call();
        }
        finally
        {
            RequestContext.Clear();
        }
    }

    /// <summary>Runs <paramref name="call"/> with <paramref name="apiKey"/> (or no key) in the request context.</summary>
    public static Task WithKeyAsync(string? apiKey, Func<Task> call, string? onBehalfOf = null) =>
        WithKeyAsync<bool>(apiKey, async () =>
        {
            await call();
            return true;
        }, onBehalfOf);

    /// <summary>The silos named in the cluster manifest every client receives.</summary>
    public IReadOnlyList<SiloAddress> Silos =>
        [.. Services.GetRequiredService<IClusterManifestProvider>().Current.Silos.Keys];

    /// <summary>
    /// Calls <paramref name="method"/> of the Orleans system target <paramref name="interfaceName"/> (an internal
    /// interface, reached by reflection) of type <paramref name="systemTargetType"/> on <paramref name="silo"/>.
    /// </summary>
    public async Task<object?> CallSystemTargetAsync(string interfaceName, string systemTargetType, SiloAddress silo, string method, params object?[] arguments)
    {
        var id = SystemTargetGrainId.Create(SystemTargetGrainId.CreateGrainType(systemTargetType), silo).GrainId;
        return await CallExtensionAsync(Client.GetGrain(id), interfaceName, method, arguments);
    }

    /// <summary>Calls <paramref name="method"/> of the internal grain extension <paramref name="interfaceName"/> on <paramref name="grain"/>.</summary>
    public static async Task<object?> CallExtensionAsync(IAddressable grain, string interfaceName, string method, params object?[] arguments)
    {
        var type = FindType(interfaceName);
        var cast = typeof(GrainExtensions).GetMethods()
            .Single(m => m.Name == nameof(GrainExtensions.AsReference) && m.IsGenericMethodDefinition && m.GetParameters().Length == 1)
            .MakeGenericMethod(type);
        var reference = cast.Invoke(null, [grain])!;
        return await InvokeAsync(reference, type, method, arguments);
    }

    /// <summary>A type of Orleans' own assemblies (or of the contract) by its full name.</summary>
    public static Type FindType(string fullName) =>
        AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(fullName)).FirstOrDefault(t => t is not null)
        ?? Type.GetType($"{fullName}, Orleans.Runtime") ?? Type.GetType($"{fullName}, Orleans.Core")
        ?? throw new InvalidOperationException($"no type {fullName} is loaded");

    private static async Task<object?> InvokeAsync(object reference, Type type, string method, object?[] arguments)
    {
        // By name; parameters past the given arguments (a CancellationToken, say) get their defaults.
        var info = type.GetMethods().Concat(type.GetInterfaces().SelectMany(i => i.GetMethods()))
            .First(m => m.Name == method && m.GetParameters().Length >= arguments.Length);
        var values = info.GetParameters()
            .Select((p, i) => i < arguments.Length ? arguments[i] : p.ParameterType.IsValueType ? Activator.CreateInstance(p.ParameterType) : null)
            .ToArray();
        object? result;
        try
        {
            result = info.Invoke(reference, values);
        }
        catch (TargetInvocationException invocation) when (invocation.InnerException is not null)
        {
            throw invocation.InnerException;
        }

        switch (result)
        {
            case Task task:
                await task;
                return task.GetType().IsGenericType ? task.GetType().GetProperty("Result")!.GetValue(task) : null;
            case ValueTask valueTask:
                await valueTask;
                return null;
            case null:
                return null;
            default:
                // ValueTask<T>: await it through AsTask.
                var asTask = (Task)result.GetType().GetMethod("AsTask")!.Invoke(result, null)!;
                await asTask;
                return asTask.GetType().GetProperty("Result")!.GetValue(asTask);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // The silo may have closed the connection on purpose; stopping is best effort.
        }

        _host.Dispose();
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Diagnostics;

namespace Groundwork.Hosting;

/// <summary>
/// Groundwork's spans for Orleans calls, in place of Orleans' <c>AddActivityPropagation()</c>: the same sources, span
/// names, kinds and tags, and the W3C <c>traceparent</c> in the request context, with less work per call. A method's
/// names are built once (Orleans formats <c>rpc.method</c> on every call), one filter replaces two, and a call that is
/// not recorded gets no tags and no wrapper around its invocation: its <c>Activity</c> (which carries the sampling
/// decision to the callee and to the calls it makes) is started and stopped around the synchronous part of the call
/// only, where Orleans tags it and awaits the call. A feed's long polls (<see cref="FeedPollSampler.IsPoll"/>) run with
/// OpenTelemetry's instrumentation suppressed and no span. Registered on the silo (incoming and outgoing) and the
/// client (outgoing); never with <c>Orleans:EnableDistributedTracing</c>, which would add Orleans' filters back.
/// Design: docs/design/call-path.md, "Tracing filters of our own".
/// </summary>
public sealed class CallTracingFilter(DistributedContextPropagator propagator) : IIncomingGrainCallFilter, IOutgoingGrainCallFilter
{
    // Orleans' tag keys (its internal ActivityTagKeys in 10.4.2), so spans read as Orleans' own did.
    internal const string RpcSystemTag = "rpc.system.name";
    internal const string RpcServiceTag = "orleans.rpc.service";
    internal const string RpcMethodTag = "rpc.method";
    internal const string TargetIdTag = "orleans.rpc.target_id";
    internal const string SourceIdTag = "orleans.rpc.source_id";

    private static readonly ActivitySource Application = new(ActivitySources.ApplicationGrainActivitySourceName);
    private static readonly ActivitySource Runtime = new(ActivitySources.RuntimeActivitySourceName);
    private static readonly ActivitySource Lifecycle = new(ActivitySources.LifecycleActivitySourceName);
    private static readonly ActivitySource Storage = new(ActivitySources.StorageActivitySourceName);
    private static readonly ConcurrentDictionary<Type, CallNames> Names = new();
    private static readonly DistributedContextPropagator.PropagatorGetterCallback FromRequestContext =
        static (object? _, string field, out string? value, out IEnumerable<string>? values) =>
        {
            values = null;
            value = RequestContext.Get(field) as string;
        };

    /// <summary>
    /// Registers the filter for calls out and in (a client takes calls in on its observers), where Orleans'
    /// <c>AddActivityPropagation()</c> would, with the process's <see cref="DistributedContextPropagator"/> unless one is registered.
    /// </summary>
    public static IServiceCollection AddTo(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(DistributedContextPropagator.Current);
        services.AddSingleton<IOutgoingGrainCallFilter, CallTracingFilter>();
        services.AddSingleton<IIncomingGrainCallFilter, CallTracingFilter>();
        return services;
    }

    /// <inheritdoc/>
    public Task Invoke(IOutgoingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var names = NamesOf(context);
        if (Untraced(context, names) is { } untraced)
        {
            return untraced;
        }

        // Under a parent that is not recorded, the parent-based sampler drops the span: skip asking it, but pass the
        // decision on (Orleans' filters passed nothing here, so the callee started a trace of its own).
        if (Activity.Current is { Recorded: false } unrecorded)
        {
            Inject(unrecorded);
            return context.Invoke();
        }

        var activity = names.Source.StartActivity(names.ActivityName, ActivityKind.Client);
        if (activity is null)
        {
            return context.Invoke();
        }

        Inject(activity);
        return activity.Recorded ? TracedAsync(context, activity, names) : Unrecorded(context, activity);
    }

    /// <inheritdoc/>
    public Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var names = NamesOf(context);
        if (Untraced(context, names) is { } untraced)
        {
            return untraced;
        }

        propagator.ExtractTraceIdAndState(null, FromRequestContext, out var traceParent, out var traceState);
        Activity? activity;
        if (string.IsNullOrEmpty(traceParent))
        {
            // A caller that traces nothing: a root here, as the sampler decides.
            activity = names.Source.CreateActivity(names.ActivityName, ActivityKind.Server);
        }
        else if (ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent))
        {
            activity = names.Source.CreateActivity(names.ActivityName, ActivityKind.Server, parent);
        }
        else
        {
            // Not W3C (a hierarchical id): followed as Orleans does.
            activity = names.Source.CreateActivity(names.ActivityName, ActivityKind.Server, traceParent);
        }

        if (activity is null)
        {
            return context.Invoke();
        }

        if (!string.IsNullOrEmpty(traceState))
        {
            activity.TraceStateString = traceState;
        }

        // Baggage travels whether or not the trace is recorded.
        if (propagator.ExtractBaggage(null, FromRequestContext) is { } baggage)
        {
            foreach (var (key, value) in baggage)
            {
                activity.AddBaggage(key, value);
            }
        }

        activity.Start();
        return activity.Recorded ? TracedAsync(context, activity, names) : Unrecorded(context, activity);
    }

    // A feed's poll runs with instrumentation suppressed; with nobody listening to the source, nothing is done.
    private static Task? Untraced(IGrainCallContext context, CallNames names) =>
        names.IsPoll ? Quietly(context.Invoke) : names.Source.HasListeners() ? null : context.Invoke();

    private void Inject(Activity activity) => propagator.Inject(activity, null, static (_, key, value) => RequestContext.Set(key, value));

    // A span nobody records: current while the call runs synchronously, so what the call awaits (its continuations,
    // the calls and spans it makes) sees the decision; stopped before the call completes, since its end is never read.
    private static Task Unrecorded(IGrainCallContext context, Activity activity)
    {
        try
        {
            return context.Invoke();
        }
        finally
        {
            activity.Stop();
        }
    }

    private static async Task TracedAsync(IGrainCallContext context, Activity activity, CallNames names)
    {
        // RPC attributes (https://opentelemetry.io/docs/specs/semconv/rpc/), as Orleans sets them.
        activity.SetTag(RpcSystemTag, "orleans");
        activity.SetTag(RpcServiceTag, names.Service);
        activity.SetTag(RpcMethodTag, names.Method);
        activity.SetTag(TargetIdTag, context.TargetId.ToString());
        if (context.SourceId is { } source)
        {
            activity.SetTag(SourceIdTag, source.ToString());
        }

        try
        {
            await context.Invoke();
        }
        catch (Exception exception)
        {
            activity.SetStatus(ActivityStatusCode.Error);
            activity.SetTag("exception.type", exception.GetType().FullName);
            activity.SetTag("exception.message", exception.Message);
            activity.SetTag("exception.stacktrace", exception.ToString());
            activity.SetTag("exception.escaped", true);
            throw;
        }
        finally
        {
            activity.Stop();
        }
    }

    private static async Task Quietly(Func<Task> invoke)
    {
        using (OpenTelemetry.SuppressInstrumentationScope.Begin())
        {
            await invoke();
        }
    }

    // Keyed by the request's type: Orleans generates one invokable type per method (per instantiation of a generic one).
    // The factory takes the context as its argument, so a call that finds its names allocates nothing.
    private static CallNames NamesOf(IGrainCallContext context) =>
        Names.GetOrAdd(context.Request.GetType(), static (_, call) => CallNames.Of(call), context);

    /// <summary>What a method's spans are named, built once per method.</summary>
    private sealed record CallNames(ActivitySource Source, string ActivityName, string Service, string Method, bool IsPoll)
    {
        public static CallNames Of(IGrainCallContext context)
        {
            var name = context.Request.GetActivityName();
            return new CallNames(SourceOf(context.Request.GetInterfaceType()), name, context.InterfaceName,
                $"{context.InterfaceName}/{context.MethodName}", FeedPollSampler.IsPoll(name));
        }

        // Orleans' choice of source (ActivityPropagationGrainCallFilter.GetActivitySource in 10.4.2).
        private static ActivitySource SourceOf(Type interfaceType) => interfaceType.Name switch
        {
            "IMemoryStorageGrain" => Storage,
            "IGrainManagementExtension" or "IActivationMigrationManagerSystemTarget" => Lifecycle,
            "IAsyncEnumerableGrainExtension" => Application,
            _ when interfaceType.Namespace?.StartsWith("Orleans", StringComparison.Ordinal) == true => Runtime,
            _ => Application,
        };
    }
}

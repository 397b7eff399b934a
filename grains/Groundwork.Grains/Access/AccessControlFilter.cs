using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Reflection;
using System.Runtime.CompilerServices;
using Groundwork.Access;
using Groundwork.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Orleans.Core.Internal;
using Orleans.Serialization.Invocation;

namespace Groundwork.Grains.Access;

/// <summary>
/// The silo's incoming call filter, the one place that decides what a call may reach. A call from silo code carries
/// the cluster's internal token (<see cref="InternalCallMarker"/>) and passes; any other call came from a client, with
/// or without a key, and reaches only:
/// <list type="bullet">
/// <item>the contract's methods (<c>Groundwork.Abstractions</c>) on a grain that implements them, under the
/// <see cref="RequiresAttribute"/> each declares, checked against the caller verified from its key;</item>
/// <item>Orleans' feed, cancellation and management extensions on those grains (read, read, admin);</item>
/// <item>the cluster manifest, which every Orleans client needs to connect;</item>
/// <item>with the operator key only: Orleans' own grains (management, dashboard) and <c>ISiloControl</c>.</item>
/// </list>
/// Everything else (other system targets such as membership, other extensions, interfaces outside the contract) is
/// refused. A refusal throws <see cref="AccessDeniedException"/>, counts in <c>groundwork.access.refusals</c>, and
/// deactivates an activation that the refused call brought up, so refused calls leave nothing behind. An error the
/// silo did not expect reaches a client as <see cref="UnexpectedErrorException"/>, its details only in the log.
/// </summary>
public sealed partial class AccessControlFilter(
    CredentialVerifier verifier,
    OperatorKey operatorKey,
    IEnumerable<ClientSystemTarget> extraSystemTargets,
    ILogger<AccessControlFilter> logger,
    Transport.RefusalBudget? refusalBudget = null) : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, Requirement?> Requirements = new();
    private static readonly ConcurrentDictionary<MethodInfo, string?> Aliases = new();
    private static readonly ConcurrentDictionary<MethodInfo, bool> MutationMethods = new();
    private static readonly Assembly Contract = typeof(RequiresAttribute).Assembly;
    private static readonly object Served = new();

    // What an Orleans client calls on its own: the cluster manifest (which grain types and interfaces exist).
    private static readonly FrozenSet<string> ClientSystemTargets = FrozenSet.ToFrozenSet(["Orleans.Runtime.IClusterManifestSystemTarget"]);

    // Management the operator key may reach directly, as it may through the management grain.
    private static readonly FrozenSet<string> OperatorSystemTargets = FrozenSet.ToFrozenSet(["Orleans.ISiloControl"]);

    // Extensions a client uses on a resource grain: continuing and ending a feed, cancelling its own call.
    private static readonly FrozenSet<string> ClientReadExtensions = FrozenSet.ToFrozenSet(["Orleans.Runtime.IGrainCallCancellationExtension"]);

    // Grain timers are local messages; no client can send one (their invokable has no serializer).
    private const string TimerInterface = "Orleans.Runtime.IGrainTimerInvoker";

    private readonly ConditionalWeakTable<IGrainContext, object> _served = new();
    private readonly FrozenSet<string> _extraSystemTargets = extraSystemTargets.Select(t => t.InterfaceFullName).ToFrozenSet();

    /// <inheritdoc/>
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var method = context.InterfaceMethod;
        var declaring = method.DeclaringType;
        var fromSilo = operatorKey.IsInternalToken(RequestContext.Get(InternalCallMarker.Header) as string) ||
                       declaring?.FullName == TimerInterface;

        if (AccessControlled.Of(context.TargetContext) is not { } resource)
        {
            if (!fromSilo)
            {
                CheckClientReachesRuntime(context, declaring);
            }

            await context.Invoke();
            return;
        }

        Requirement? requirement;
        if (declaring == typeof(IAsyncEnumerableGrainExtension) && method.Name == nameof(IAsyncEnumerableGrainExtension.StartEnumeration))
        {
            // Starting a feed: check the grain method being enumerated.
            method = ((IInvokable)context.Request.GetArgument(1)!).GetMethod();
            requirement = RequirementOf(method);
        }
        else if (fromSilo && declaring?.Assembly != Contract)
        {
            // The runtime's own calls into the grain: reminders, timers, the feed extension's clean-up, deactivation.
            MarkServed(context.TargetContext);
            await context.Invoke();
            return;
        }
        else if (declaring == typeof(IAsyncEnumerableGrainExtension) || (declaring?.FullName is { } name && ClientReadExtensions.Contains(name)))
        {
            // Continuing, ending or cancelling: the caller's key must still read the resource.
            requirement = Requirement.Read;
        }
        else if (declaring == typeof(IGrainManagementExtension))
        {
            // Deactivating or migrating one of our grains: an administrative act on the resource.
            requirement = Requirement.Admin;
        }
        else if (declaring?.Assembly == Contract)
        {
            // (A contract interface the grain does not implement never gets here: Orleans casts the grain first, and
            // the message guard answers such calls before that.)
            requirement = RequirementOf(method);
        }
        else
        {
            throw Refuse(context, new AccessDeniedException(AccessDenialReason.UndeclaredMethod,
                $"{declaring?.Name}.{method.Name} is not part of Groundwork's contract"), fromSilo);
        }

        if (resource.KeyError is { } keyError)
        {
            throw Refuse(context, keyError, fromSilo);
        }

        if (requirement is null)
        {
            throw Refuse(context, new AccessDeniedException(AccessDenialReason.UndeclaredMethod,
                $"{method.DeclaringType?.Name}.{method.Name} declares no access requirement"), fromSilo);
        }

        // Silo code acting on its own (no caller's key: a resource re-registering itself on activation, the directory
        // reading a summary back) is the system; silo code serving a caller carries the caller's key and is checked.
        Caller? caller = null;
        var systemCall = fromSilo && RequestContext.Get(CallHeaders.ApiKey) is null;
        if (requirement != Requirement.None && !systemCall)
        {
            try
            {
                caller = await verifier.VerifyAsync(
                    RequestContext.Get(CallHeaders.ApiKey) as string,
                    RequestContext.Get(CallHeaders.OnBehalfOf) as string);
            }
            catch (GroundworkException refused) when (refused is AccessDeniedException or InvalidRequestException)
            {
                throw Refuse(context, refused, fromSilo);
            }

            if (AccessPolicy.Check(caller, requirement.Value, resource.Tenant!, resource.AccessList, resource.Rule) is { } refusal)
            {
                throw Refuse(context, refusal, fromSilo);
            }
        }

        MarkServed(context.TargetContext);
        CallerContext.Current = caller;
        CallerContext.Operation = AliasOf(method);
        CallerContext.Request = TakesMutationOptions(method) ? context.Request : null;
        if (fromSilo)
        {
            await context.Invoke();
            return;
        }

        try
        {
            await context.Invoke();
        }
        catch (Exception exception) when (IsUnexpected(exception))
        {
            var incident = Guid.NewGuid().ToString("N")[..12];
            LogUnexpected(logger, exception, incident, $"{declaring?.Name}.{method.Name}");
            throw new UnexpectedErrorException(incident, exception.GetType().Name);
        }
    }

    private void CheckClientReachesRuntime(IIncomingGrainCallContext context, Type? declaring)
    {
        var name = declaring?.FullName ?? "";
        if (context.TargetId.IsSystemTarget())
        {
            if (ClientSystemTargets.Contains(name) || _extraSystemTargets.Contains(name) || (OperatorSystemTargets.Contains(name) && IsOperator()))
            {
                return;
            }

            throw Refuse(context, new AccessDeniedException(AccessDenialReason.OperatorOnly,
                $"{declaring?.Name}.{context.InterfaceMethod.Name} is the silo's own; clients cannot call it"), fromSilo: false);
        }

        // Orleans' own grains (management, dashboard): anyone who reaches the gateway could otherwise list every
        // tenant's grains or deactivate them.
        if (!IsOperator())
        {
            throw Refuse(context, new AccessDeniedException(AccessDenialReason.OperatorOnly,
                $"{declaring?.Name}.{context.InterfaceMethod.Name} is for the operator key only"), fromSilo: false);
        }
    }

    // The table's reads take no lock and its writes do: a grain is marked once, not on every call (the polls of a
    // thousand watchers contended for that lock).
    private void MarkServed(IGrainContext target)
    {
        if (!_served.TryGetValue(target, out _))
        {
            _served.TryAdd(target, Served);
        }
    }

    private bool IsOperator() =>
        RequestContext.Get(CallHeaders.ApiKey) is string key && ApiKeys.IsOperatorKeyForm(key) && operatorKey.Matches(key);

    private static string? AliasOf(MethodInfo method) =>
        Aliases.GetOrAdd(method, static m => m.GetCustomAttribute<AliasAttribute>()?.Alias);

    // A mutation's arguments are kept for the call so that an operation id's retry can be told from its reuse.
    private static bool TakesMutationOptions(MethodInfo method) =>
        MutationMethods.GetOrAdd(method, static m => m.GetParameters().Any(p => p.ParameterType == typeof(MutationOptions)));

    private static Requirement? RequirementOf(MethodInfo method) =>
        Requirements.GetOrAdd(method, static m => m.GetCustomAttribute<RequiresAttribute>()?.Requirement);

    /// <summary>Counts the refusal and drops the activation if this call brought it up, so refusals leave nothing behind.</summary>
    private GroundworkException Refuse(IIncomingGrainCallContext context, GroundworkException refusal, bool fromSilo)
    {
        // A client's refusals count against its connection's budget (the message guard slows a client in debt).
        if (!fromSilo && context.SourceId is { } source && source.IsClient())
        {
            refusalBudget?.Refused(source.ToString());
        }

        var target = context.TargetContext;
        if (!target.GrainId.IsSystemTarget() && target.GrainInstance is not null && !_served.TryGetValue(target, out _))
        {
            target.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "a refused call"));
        }

        return refusal is AccessDeniedException denied ? GroundworkMetrics.Refused(denied) : refusal;
    }

    /// <summary>Errors a client should not see as they are: neither ours nor the runtime's answers about the call.</summary>
    private static bool IsUnexpected(Exception exception) =>
        exception is not GroundworkException and not TimeoutException and not OperationCanceledException &&
        exception.GetType().Namespace?.StartsWith("Orleans", StringComparison.Ordinal) != true;

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected error in {Method} (incident {Incident})")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string incident, string method);
}

/// <summary>
/// A system target that clients may call beyond the cluster manifest, registered in code (never from configuration):
/// for test hosts whose client checks silo statuses, such as Orleans.TestingHost's <c>ITestHooks</c>.
/// </summary>
/// <param name="InterfaceFullName">The system target interface's full name.</param>
public sealed record ClientSystemTarget(string InterfaceFullName);

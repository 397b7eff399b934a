using System.Collections.Concurrent;
using System.Reflection;
using Groundwork.Access;
using Groundwork.Grains.Telemetry;
using Orleans.Core.Internal;
using Orleans.Serialization.Invocation;

namespace Groundwork.Grains.Access;

/// <summary>
/// The silo's incoming call filter: every call to a Groundwork grain must satisfy the <see cref="RequiresAttribute"/>
/// its interface method declares, checked against the caller verified from its key (never against caller-set claims).
/// A refusal throws <see cref="AccessDeniedException"/> and counts in <c>groundwork.access.refusals</c>.
/// </summary>
public sealed class AccessControlFilter(CredentialVerifier verifier, OperatorKey operatorKey) : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, Requirement?> Requirements = new();

    /// <inheritdoc/>
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.TargetContext.GrainInstance is not IAccessControlled resource)
        {
            // Orleans' own grains (management, dashboard, ...): for silo code and the operator only. Anyone who
            // reaches the gateway could otherwise list every tenant's grains or deactivate them.
            if (!context.TargetId.IsSystemTarget() && !IsInternalOrOperator())
            {
                throw Refuse(new AccessDeniedException(AccessDenialReason.OperatorOnly,
                    $"{context.InterfaceMethod.DeclaringType?.Name}.{context.InterfaceMethod.Name} is for the operator key only"));
            }

            await context.Invoke();
            return;
        }

        var method = context.InterfaceMethod;
        Requirement? requirement;
        if (method.DeclaringType == typeof(IAsyncEnumerableGrainExtension))
        {
            if (method.Name != nameof(IAsyncEnumerableGrainExtension.StartEnumeration))
            {
                // Continuing or disposing an enumeration that was checked when it started; its id is unguessable,
                // and the enumeration re-checks the watcher's access itself.
                await context.Invoke();
                return;
            }

            // Starting one: check the grain method being enumerated.
            method = ((IInvokable)context.Request.GetArgument(1)!).GetMethod();
            requirement = RequirementOf(method);
        }
        else if (method.DeclaringType == typeof(IGrainManagementExtension) && IsInternalOrOperator())
        {
            // The runtime or the operator managing activations.
            await context.Invoke();
            return;
        }
        else if (method.DeclaringType == typeof(IGrainManagementExtension))
        {
            // Deactivating or migrating one of our grains: anyone who reaches the gateway could send this, so it
            // is an administrative act on the resource.
            requirement = Requirement.Admin;
        }
        else if (method.DeclaringType?.Assembly != typeof(RequiresAttribute).Assembly)
        {
            // The runtime's own calls into the grain (grain timers, such as the feed extension's cleanup timer,
            // and other internal extensions) carry no caller credential and are not ours to check.
            await context.Invoke();
            return;
        }
        else
        {
            requirement = RequirementOf(method);
        }

        if (resource.KeyError is { } keyError)
        {
            throw keyError;
        }

        if (requirement is null)
        {
            throw Refuse(new AccessDeniedException(AccessDenialReason.UndeclaredMethod,
                $"{method.DeclaringType?.Name}.{method.Name} declares no access requirement"));
        }

        Caller? caller = null;
        if (requirement != Requirement.None)
        {
            try
            {
                caller = await verifier.VerifyAsync(
                    RequestContext.Get(CallHeaders.ApiKey) as string,
                    RequestContext.Get(CallHeaders.OnBehalfOf) as string);
            }
            catch (AccessDeniedException denied)
            {
                throw Refuse(denied);
            }

            if (AccessPolicy.Check(caller, requirement.Value, resource.Tenant!, resource.AccessList) is { } refusal)
            {
                throw Refuse(refusal);
            }
        }

        CallerContext.Current = caller;
        await context.Invoke();
    }

    private bool IsInternalOrOperator() =>
        operatorKey.IsInternalToken(RequestContext.Get(InternalCallMarker.Header) as string) ||
        (RequestContext.Get(CallHeaders.ApiKey) is string key && ApiKeys.IsOperatorKeyForm(key) && operatorKey.Matches(key));

    private static Requirement? RequirementOf(MethodInfo method) =>
        Requirements.GetOrAdd(method, static m => m.GetCustomAttribute<RequiresAttribute>()?.Requirement);

    private static AccessDeniedException Refuse(AccessDeniedException refusal) => GroundworkMetrics.Refused(refusal);
}

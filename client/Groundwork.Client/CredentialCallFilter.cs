using Groundwork.Access;
using Microsoft.Extensions.Options;

namespace Groundwork.Client;

/// <summary>
/// Puts the caller's key on every call to a Groundwork grain, refuses a malformed resource key before anything
/// is sent (so no grain is ever activated for it), and surfaces storage outages as <see cref="StorageUnavailableException"/>.
/// </summary>
public sealed class CredentialCallFilter(IOptions<GroundworkClientOptions> options) : IOutgoingGrainCallFilter
{
    private static readonly System.Reflection.Assembly Contract = typeof(ResourceKinds).Assembly;

    /// <inheritdoc/>
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var interfaceType = context.InterfaceMethod?.DeclaringType;
        if (interfaceType is not null && interfaceType.Assembly == Contract)
        {
            ValidateTarget(interfaceType, context.TargetId);
        }

        // Every call carries the credential: Groundwork grains check it on their own methods and on Orleans'
        // extensions (feeds, deactivation); other grains ignore it.
        var key = GroundworkCredentials.CurrentKey ?? options.Value.ApiKey;
        if (key is not null)
        {
            RequestContext.Set(CallHeaders.ApiKey, key);
        }

        if (GroundworkCredentials.CurrentOnBehalfOf is { } user)
        {
            RequestContext.Set(CallHeaders.OnBehalfOf, user);
        }

        try
        {
            await context.Invoke();
        }
        catch (Exception exception) when (exception is not GroundworkException && GroundworkException.FindIn(exception) is { } typed)
        {
            // Orleans wraps storage failures met while a grain activates; the caller gets our typed error.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(typed);
        }
    }

    // Asked on every call: reflection once per interface.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, bool> TenantScoped = new();

    private static void ValidateTarget(Type interfaceType, GrainId target)
    {
        if (TenantScoped.GetOrAdd(interfaceType, static type => type.GetCustomAttributes(typeof(TenantScopedAttribute), false).Length > 0))
        {
            TenantId.Validate(target.Key.ToString());
            return;
        }

        // Every other contract grain is a tenant resource keyed {tenant}/{kind}/{name}, of its interface's kind.
        var key = ResourceKey.Parse(target.Key.ToString());
        if (ResourceKinds.Of(interfaceType) is { } declared && key.Kind != declared.Kind)
        {
            throw new InvalidResourceKeyException(key.ToString(), $"expected a '{declared.Kind}' key");
        }
    }
}

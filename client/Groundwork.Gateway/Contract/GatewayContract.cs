using System.Linq.Expressions;
using System.Reflection;
using System.Text.Json;
using Groundwork.Access;

namespace Groundwork.Gateway.Contract;

/// <summary>A contract method the gateway does not serve, and why.</summary>
/// <param name="Interface">The grain interface it was found on.</param>
/// <param name="Method">The method.</param>
/// <param name="Reason">Why it stays off HTTP.</param>
public sealed record ExcludedMethod(Type Interface, MethodInfo Method, string Reason);

/// <summary>
/// The model of the contract the gateway serves, read once from Groundwork.Abstractions: every grain interface marked
/// <c>[ResourceKind]</c> or <c>[TenantScoped]</c> and every method on it (inherited ones too), each either an
/// <see cref="GatewayOperation"/> or an <see cref="ExcludedMethod"/>. A new building block's interface is served with
/// no code here.
/// </summary>
public sealed class GatewayContract
{
    private static readonly NullabilityInfoContext Nullability = new();

    private readonly Dictionary<(TargetKind, string, string), GatewayOperation> _byName;

    private GatewayContract(IReadOnlyList<GatewayOperation> operations, IReadOnlyList<ExcludedMethod> excluded)
    {
        Operations = operations;
        Excluded = excluded;
        _byName = operations.ToDictionary(o => (o.Target, o.Segment, o.Alias));
    }

    /// <summary>The operation of a route's names: its target, its segment (kind or grain) and its alias; null for none.</summary>
    public GatewayOperation? Find(TargetKind target, string segment, string alias) =>
        _byName.GetValueOrDefault((target, segment, alias));

    /// <summary>The contract of Groundwork.Abstractions, built on first use.</summary>
    public static GatewayContract Default { get; } = Build(typeof(ResourceKinds).Assembly);

    /// <summary>The served methods, ordered by route.</summary>
    public IReadOnlyList<GatewayOperation> Operations { get; }

    /// <summary>The methods kept off HTTP.</summary>
    public IReadOnlyList<ExcludedMethod> Excluded { get; }

    /// <summary>Reads the served interfaces of <paramref name="contract"/>.</summary>
    /// <exception cref="InvalidOperationException">Two methods would share a route, or a method has a shape the gateway cannot serve.</exception>
    public static GatewayContract Build(Assembly contract)
    {
        ArgumentNullException.ThrowIfNull(contract);
        var operations = new List<GatewayOperation>();
        var excluded = new List<ExcludedMethod>();
        foreach (var grainInterface in contract.GetTypes().Where(IsServed).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            var (target, segment) = TargetOf(grainInterface);
            foreach (var method in grainInterface.GetMethods().Concat(grainInterface.GetInterfaces().SelectMany(i => i.GetMethods())))
            {
                if (Exclusion(method) is { } reason)
                {
                    excluded.Add(new ExcludedMethod(grainInterface, method, reason));
                    continue;
                }

                operations.Add(Describe(grainInterface, method, target, segment));
            }
        }

        var clash = operations.GroupBy(o => o.Route, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
        {
            throw new InvalidOperationException($"Two contract methods share the route {clash.Key}: {string.Join(", ", clash.Select(o => o.Method.Name))}");
        }

        return new GatewayContract([.. operations.OrderBy(o => o.Route, StringComparer.Ordinal)], excluded);
    }

    /// <summary>Whether <paramref name="type"/> is a grain interface the gateway serves.</summary>
    public static bool IsServed(Type type) =>
        type.IsInterface && !type.IsGenericTypeDefinition && typeof(IGrainWithStringKey).IsAssignableFrom(type) &&
        (type.GetCustomAttribute<ResourceKindAttribute>(inherit: false) is not null || type.GetCustomAttribute<TenantScopedAttribute>(inherit: false) is not null);

    /// <summary>Why <paramref name="method"/> stays off HTTP, or null when it is served.</summary>
    public static string? Exclusion(MethodInfo method)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.GetCustomAttribute<DotNetOnlyAttribute>() is { } only)
        {
            return only.Reason;
        }

        return method.GetCustomAttribute<RequiresAttribute>()?.Requirement switch
        {
            null => "declares no [Requires]: the silo refuses it to everyone",
            Requirement.None => "needs no credential: such methods stay .NET-only",
            _ => null,
        };
    }

    private static (TargetKind Target, string Segment) TargetOf(Type grainInterface)
    {
        if (grainInterface.GetCustomAttribute<ResourceKindAttribute>(inherit: false) is { } kind)
        {
            return (TargetKind.Resource, kind.Kind);
        }

        var alias = grainInterface.GetCustomAttribute<AliasAttribute>()?.Alias
            ?? throw new InvalidOperationException($"{grainInterface.Name} has no [Alias]");
        return (TargetKind.Tenant, alias.StartsWith("gw.", StringComparison.Ordinal) ? alias[3..] : alias);
    }

    private static GatewayOperation Describe(Type grainInterface, MethodInfo method, TargetKind target, string segment)
    {
        var alias = method.GetCustomAttribute<AliasAttribute>()?.Alias
            ?? throw new InvalidOperationException($"{grainInterface.Name}.{method.Name} has no [Alias]");
        var requirement = method.GetCustomAttribute<RequiresAttribute>()!.Requirement;
        var parameters = method.GetParameters().Select(Parameter).ToList();
        var (shape, resultType) = ShapeOf(method);
        var safe = method.GetCustomAttribute<SafeAttribute>() is not null;
        var get = safe && parameters.All(p => p.Source != ParameterSource.Named || p.Simple);
        if (shape == ResultShape.Stream && !get)
        {
            throw new InvalidOperationException($"{grainInterface.Name}.{method.Name} is a stream but not a safe method with simple parameters: Server-Sent Events need GET");
        }

        if (shape == ResultShape.Stream && parameters.Any(p => p.Name == "ticket"))
        {
            throw new InvalidOperationException($"{grainInterface.Name}.{method.Name} has a parameter named 'ticket', which a feed's URL keeps for its credential");
        }

        return new GatewayOperation(grainInterface, method, target, segment, alias, get, parameters, shape, resultType, Compile(method), requirement);
    }

    private static OperationParameter Parameter(ParameterInfo parameter)
    {
        var type = parameter.ParameterType;
        var name = JsonNamingPolicy.CamelCase.ConvertName(parameter.Name!);
        if (type == typeof(MutationOptions))
        {
            return new OperationParameter(name, type, ParameterSource.MutationOptions, false, null, true);
        }

        if (type == typeof(CancellationToken))
        {
            return new OperationParameter(name, type, ParameterSource.Cancellation, false, null, true);
        }

        var nullable = Nullable.GetUnderlyingType(type) is not null ||
            (!type.IsValueType && Nullability.Create(parameter).WriteState == NullabilityState.Nullable);
        var required = !parameter.HasDefaultValue && !nullable;
        var fallback = parameter.HasDefaultValue ? parameter.DefaultValue : null;
        return new OperationParameter(name, type, ParameterSource.Named, required, fallback, IsScalar(type) || ElementOf(type) is { } element && IsScalar(element));
    }

    /// <summary>Whether a value of <paramref name="type"/> is written as one query-string value.</summary>
    public static bool IsScalar(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(DateOnly) ||
            type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(TimeSpan) || type == typeof(Guid);
    }

    /// <summary>The element type of a list parameter (<c>IReadOnlyList&lt;T&gt;</c>, <c>T[]</c>), or null.</summary>
    public static Type? ElementOf(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        return type.IsGenericType && type.GetGenericTypeDefinition() is var definition &&
            (definition == typeof(IReadOnlyList<>) || definition == typeof(IList<>) || definition == typeof(List<>) ||
             definition == typeof(IReadOnlyCollection<>) || definition == typeof(IEnumerable<>))
            ? type.GetGenericArguments()[0]
            : null;
    }

    private static (ResultShape, Type?) ShapeOf(MethodInfo method)
    {
        var type = method.ReturnType;
        if (type == typeof(Task))
        {
            return (ResultShape.None, null);
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Task<>))
        {
            return (ResultShape.Value, type.GetGenericArguments()[0]);
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IAsyncEnumerable<>))
        {
            return (ResultShape.Stream, type.GetGenericArguments()[0]);
        }

        throw new InvalidOperationException($"{method.DeclaringType?.Name}.{method.Name} returns {type.Name}: the gateway serves Task, Task<T> and IAsyncEnumerable<T>");
    }

    // Compiled once per method: the grain reference and the bound arguments in, the Task or stream out.
    private static Func<object, object?[], object?> Compile(MethodInfo method)
    {
        var grain = Expression.Parameter(typeof(object), "grain");
        var args = Expression.Parameter(typeof(object?[]), "args");
        var arguments = method.GetParameters().Select((p, i) =>
            (Expression)Expression.Convert(Expression.ArrayIndex(args, Expression.Constant(i)), p.ParameterType));
        var call = Expression.Call(Expression.Convert(grain, method.DeclaringType!), method, arguments);
        return Expression.Lambda<Func<object, object?[], object?>>(Expression.Convert(call, typeof(object)), grain, args).Compile();
    }
}

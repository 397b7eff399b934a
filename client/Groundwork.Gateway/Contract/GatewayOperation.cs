using System.Reflection;

namespace Groundwork.Gateway.Contract;

/// <summary>Where an operation's grain is found: a tenant resource (<c>{tenant}/{kind}/{name}</c>) or a tenant-keyed grain.</summary>
public enum TargetKind
{
    /// <summary>A resource keyed <c>{tenant}/{kind}/{name}</c>: <c>/v1/{tenant}/{kind}/{name}/{method}</c>.</summary>
    Resource = 0,

    /// <summary>A grain keyed by the tenant id: <c>/v1/{tenant}/{grain}/{method}</c>.</summary>
    Tenant = 1,
}

/// <summary>What an operation answers with.</summary>
public enum ResultShape
{
    /// <summary>Nothing (<c>Task</c>): 204.</summary>
    None = 0,

    /// <summary>One value (<c>Task&lt;T&gt;</c>): 200 with JSON.</summary>
    Value = 1,

    /// <summary>A stream (<c>IAsyncEnumerable&lt;T&gt;</c>): Server-Sent Events.</summary>
    Stream = 2,
}

/// <summary>Where a parameter's value comes from.</summary>
public enum ParameterSource
{
    /// <summary>The query string (GET) or a member of the JSON body (POST), by its camelCase name.</summary>
    Named = 0,

    /// <summary>The <see cref="MutationOptions"/>: <c>Idempotency-Key</c> and <c>If-Match</c> headers.</summary>
    MutationOptions = 1,

    /// <summary>The request's cancellation.</summary>
    Cancellation = 2,
}

/// <summary>One parameter of an operation.</summary>
/// <param name="Name">Its wire name (camelCase of the C# name).</param>
/// <param name="Type">Its type.</param>
/// <param name="Source">Where its value comes from.</param>
/// <param name="Required">Whether a request must give it (no default and not nullable).</param>
/// <param name="Default">The value when it is not given.</param>
/// <param name="Simple">Whether it fits a query string (a scalar or a list of scalars).</param>
public sealed record OperationParameter(string Name, Type Type, ParameterSource Source, bool Required, object? Default, bool Simple);

/// <summary>
/// One contract method as the gateway serves it: its route, verb, parameters and a compiled invoker.
/// Built once at start by <see cref="GatewayContract"/>.
/// </summary>
public sealed class GatewayOperation
{
    internal GatewayOperation(
        Type grainInterface, MethodInfo method, TargetKind target, string segment, string alias, bool get,
        IReadOnlyList<OperationParameter> parameters, ResultShape shape, Type? resultType,
        Func<object, object?[], object?> invoke, Access.Requirement requirement)
    {
        Interface = grainInterface;
        Method = method;
        Target = target;
        Segment = segment;
        Alias = alias;
        IsGet = get;
        Parameters = parameters;
        Shape = shape;
        ResultType = resultType;
        Invoke = invoke;
        Requirement = requirement;
        Route = target == TargetKind.Resource ? $"/v1/{{tenant}}/{segment}/{{name}}/{alias}" : $"/v1/{{tenant}}/{segment}/{alias}";
        HasOptions = parameters.Any(p => p.Source == ParameterSource.MutationOptions);
        CursorIndex = parameters.ToList().FindIndex(p => p.Name == "afterSequence" && p.Type == typeof(long));
        ReadResult = shape == ResultShape.Value ? Results.Reader(resultType!) : static _ => null;
        MutationOf = resultType is null ? static _ => null : Results.MutationReader(resultType);
        var version = resultType?.GetProperty("Version") is { } property && property.PropertyType == typeof(long) ? property : null;
        VersionOf = version is not null ? value => (long)version.GetValue(value)! : value => MutationOf(value)?.Version;
    }

    /// <summary>The index of a stream's cursor parameter (<c>afterSequence</c>), which <c>Last-Event-ID</c> sets; -1 for none.</summary>
    public int CursorIndex { get; }

    /// <summary>Reads the value of the completed <c>Task&lt;T&gt;</c> the method returned.</summary>
    public Func<Task, object?> ReadResult { get; }

    /// <summary>The version a result carries (its <c>Version</c>, or its mutation result's), for <c>ETag</c>; null for none.</summary>
    public Func<object, long?> VersionOf { get; }

    /// <summary>The mutation result a result is or holds (<c>WorkbookEdit.Result</c>), for <c>Idempotency-Replayed</c>; null for none.</summary>
    public Func<object, MutationResult?> MutationOf { get; }

    /// <summary>The grain interface.</summary>
    public Type Interface { get; }

    /// <summary>The interface method.</summary>
    public MethodInfo Method { get; }

    /// <summary>How the grain is keyed.</summary>
    public TargetKind Target { get; }

    /// <summary>The kind (resources) or grain name (tenant-keyed) in the route.</summary>
    public string Segment { get; }

    /// <summary>The method's <c>[Alias]</c>, the last route segment.</summary>
    public string Alias { get; }

    /// <summary>The route pattern.</summary>
    public string Route { get; }

    /// <summary>GET (a safe method with simple parameters) or POST.</summary>
    public bool IsGet { get; }

    /// <summary>The parameters in the method's order.</summary>
    public IReadOnlyList<OperationParameter> Parameters { get; }

    /// <summary>Whether the method takes <see cref="MutationOptions"/>.</summary>
    public bool HasOptions { get; }

    /// <summary>What it answers with.</summary>
    public ResultShape Shape { get; }

    /// <summary>The value type (<c>T</c> of <c>Task&lt;T&gt;</c> or of the stream); null for none.</summary>
    public Type? ResultType { get; }

    /// <summary>What the caller needs (the silo checks it; the gateway documents it).</summary>
    public Access.Requirement Requirement { get; }

    /// <summary>Calls the method on a grain reference with the bound arguments; returns its Task or stream.</summary>
    public Func<object, object?[], object?> Invoke { get; }

    /// <summary>The operation's name in OpenAPI and logs: <c>list.add-item</c>.</summary>
    public string Id => $"{Segment}.{Alias}";

    /// <inheritdoc/>
    public override string ToString() => $"{(IsGet ? "GET" : "POST")} {Route}";
}

/// <summary>Compiled readers of results, built once per result type.</summary>
internal static class Results
{
    public static Func<Task, object?> Reader(Type resultType)
    {
        var task = System.Linq.Expressions.Expression.Parameter(typeof(Task), "task");
        var result = System.Linq.Expressions.Expression.Property(
            System.Linq.Expressions.Expression.Convert(task, typeof(Task<>).MakeGenericType(resultType)), "Result");
        return System.Linq.Expressions.Expression.Lambda<Func<Task, object?>>(
            System.Linq.Expressions.Expression.Convert(result, typeof(object)), task).Compile();
    }

    public static Func<object, MutationResult?> MutationReader(Type resultType)
    {
        if (resultType == typeof(MutationResult))
        {
            return static value => (MutationResult)value;
        }

        if (resultType.GetProperties().FirstOrDefault(p => p.PropertyType == typeof(MutationResult)) is { } mutation)
        {
            return value => mutation.GetValue(value) as MutationResult;
        }

        return static _ => null;
    }
}

using System.Globalization;
using System.Text.Json;
using Groundwork.Gateway.Contract;

namespace Groundwork.Gateway.Http;

/// <summary>Thrown while binding a request: the request is wrong, nothing was called.</summary>
public sealed class BindingException(Problem problem) : Exception(problem.Detail)
{
    /// <summary>The answer.</summary>
    public Problem Problem { get; } = problem;
}

/// <summary>
/// Turns a request into an operation's arguments: query parameters (GET) or the members of one JSON object (POST) by
/// name, <c>Idempotency-Key</c> and <c>If-Match</c> into <see cref="MutationOptions"/>. A missing, unknown or
/// malformed parameter is a 400 that names it.
/// </summary>
public static class ArgumentBinder
{
    /// <summary>The longest operation id (as <see cref="MutationOptions.OperationId"/>).</summary>
    public const int MaxOperationIdLength = 128;

    /// <summary>Binds the query string of a GET.</summary>
    public static object?[] FromQuery(GatewayOperation operation, IQueryCollection query, IHeaderDictionary headers, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(query);
        foreach (var name in query.Keys)
        {
            if (name == TicketAuthenticationHandler.QueryName && operation.Shape == ResultShape.Stream)
            {
                continue; // the feed's credential, read by the ticket scheme
            }

            if (!operation.Parameters.Any(p => p.Source == ParameterSource.Named && p.Name == name))
            {
                throw Unknown(operation, name);
            }
        }

        return Bind(operation, headers, parameter =>
        {
            if (!query.TryGetValue(parameter.Name, out var values))
            {
                return (false, null);
            }

            if (GatewayContract.ElementOf(parameter.Type) is { } element)
            {
                var list = Array.CreateInstance(element, values.Count);
                for (var i = 0; i < values.Count; i++)
                {
                    list.SetValue(Scalar(parameter.Name, values[i] ?? "", element), i);
                }

                return (true, list);
            }

            if (values.Count != 1)
            {
                throw new BindingException(Problem.InvalidRequest(parameter.Name, "given more than once"));
            }

            return (true, Scalar(parameter.Name, values[0] ?? "", parameter.Type));
        }, cancellation);
    }

    /// <summary>Binds the JSON object of a POST (an empty body is an empty object).</summary>
    public static object?[] FromBody(GatewayOperation operation, ReadOnlyMemory<byte> body, IHeaderDictionary headers, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        JsonElement root = default;
        var hasBody = !body.IsEmpty && body.Span.IndexOfAnyExcept(" \t\r\n"u8) >= 0;
        JsonDocument? document = null;
        try
        {
            if (hasBody)
            {
                try
                {
                    document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = GatewayJson.Options.MaxDepth });
                }
                catch (JsonException exception)
                {
                    throw new BindingException(Problem.InvalidRequest("body", $"not JSON ({Where(exception)})"));
                }

                root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    throw new BindingException(Problem.InvalidRequest("body", $"must be a JSON object of named parameters, not {root.ValueKind.ToString().ToLowerInvariant()}"));
                }

                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var member in root.EnumerateObject())
                {
                    if (!seen.Add(member.Name))
                    {
                        throw new BindingException(Problem.InvalidRequest(member.Name, "given more than once"));
                    }

                    if (!operation.Parameters.Any(p => p.Source == ParameterSource.Named && p.Name == member.Name))
                    {
                        throw Unknown(operation, member.Name);
                    }
                }
            }

            return Bind(operation, headers, parameter =>
            {
                if (!hasBody || !root.TryGetProperty(parameter.Name, out var value))
                {
                    return (false, null);
                }

                try
                {
                    return (true, value.Deserialize(parameter.Type, GatewayJson.Options));
                }
                catch (JsonException exception)
                {
                    throw new BindingException(Problem.InvalidRequest(parameter.Name, $"not a valid {Describe(parameter.Type)} ({Where(exception)})"));
                }
                catch (Exception exception) when (exception is NotSupportedException or InvalidOperationException or ArgumentException or FormatException or OverflowException)
                {
                    throw new BindingException(Problem.InvalidRequest(parameter.Name, $"not a valid {Describe(parameter.Type)}"));
                }
            }, cancellation);
        }
        finally
        {
            document?.Dispose();
        }
    }

    private static object?[] Bind(GatewayOperation operation, IHeaderDictionary headers, Func<OperationParameter, (bool Found, object? Value)> read, CancellationToken cancellation)
    {
        var arguments = new object?[operation.Parameters.Count];
        for (var i = 0; i < arguments.Length; i++)
        {
            var parameter = operation.Parameters[i];
            arguments[i] = parameter.Source switch
            {
                ParameterSource.MutationOptions => Options(headers),
                ParameterSource.Cancellation => cancellation,
                _ => Named(parameter, read(parameter)),
            };
        }

        if (!operation.HasOptions)
        {
            foreach (var header in (string[])["Idempotency-Key", "If-Match"])
            {
                if (headers.ContainsKey(header))
                {
                    throw new BindingException(Problem.InvalidRequest(header, $"{operation.Id} is not a mutation: it takes no {header}"));
                }
            }
        }

        return arguments;
    }

    private static object? Named(OperationParameter parameter, (bool Found, object? Value) given)
    {
        if (!given.Found)
        {
            return parameter.Required ? throw new BindingException(Problem.InvalidRequest(parameter.Name, "missing")) : parameter.Default;
        }

        if (given.Value is null && parameter.Required)
        {
            throw new BindingException(Problem.InvalidRequest(parameter.Name, "must not be null"));
        }

        return given.Value;
    }

    /// <summary>The <see cref="MutationOptions"/> of <c>Idempotency-Key</c> and <c>If-Match</c>; null when neither is sent.</summary>
    public static MutationOptions? Options(IHeaderDictionary headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        string? operationId = null;
        long? expected = null;
        if (headers.TryGetValue("Idempotency-Key", out var keys))
        {
            var key = keys.Count == 1 ? keys[0] : null;
            if (string.IsNullOrEmpty(key) || key.Length > MaxOperationIdLength || key.Any(c => c < 0x21 || c > 0x7e))
            {
                throw new BindingException(Problem.InvalidRequest("Idempotency-Key", $"must be one value of 1-{MaxOperationIdLength} printable ASCII characters"));
            }

            operationId = key;
        }

        if (headers.TryGetValue("If-Match", out var matches))
        {
            var text = matches.Count == 1 ? matches[0] : null;
            expected = text is not null && ETags.TryParse(text, out var version) ? version
                : throw new BindingException(Problem.InvalidRequest("If-Match", "must be one version as the ETag gives it, such as \"12\""));
        }

        return operationId is null && expected is null ? null : new MutationOptions(expected, operationId);
    }

    private static object? Scalar(string name, string text, Type type)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(string))
        {
            return text;
        }

        try
        {
            // Numbers and booleans are JSON literals; everything else (enums, dates, durations, ids) a JSON string.
            var json = target.IsPrimitive || target == typeof(decimal) ? text : JsonSerializer.Serialize(text);
            if (target.IsPrimitive && (text.Length == 0 || text.Any(char.IsWhiteSpace)))
            {
                throw new FormatException();
            }

            return JsonSerializer.Deserialize(json, type, GatewayJson.Options);
        }
        catch (Exception exception) when (exception is JsonException or FormatException or NotSupportedException or InvalidOperationException)
        {
            throw new BindingException(Problem.InvalidRequest(name, $"'{Echo(text)}' is not a valid {Describe(type)}"));
        }
    }

    private static BindingException Unknown(GatewayOperation operation, string name)
    {
        var known = operation.Parameters.Where(p => p.Source == ParameterSource.Named).Select(p => p.Name).ToList();
        return new BindingException(Problem.InvalidRequest(Echo(name), known.Count == 0
            ? $"unknown parameter: {operation.Id} takes none"
            : $"unknown parameter: {operation.Id} takes {string.Join(", ", known)}"));
    }

    private static string Where(JsonException exception) =>
        exception.Path is { Length: > 0 } path ? $"at {path}" : exception.LineNumber is { } line ? string.Create(CultureInfo.InvariantCulture, $"line {line + 1}") : "malformed";

    private static string Describe(Type type)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        return GatewayContract.ElementOf(target) is { } element ? $"list of {Describe(element)}"
            : target.IsEnum ? $"{target.Name} ({string.Join(", ", Enum.GetNames(target))})"
            : target == typeof(int) || target == typeof(long) ? "integer"
            : target == typeof(bool) ? "boolean (true or false)"
            : target == typeof(TimeSpan) ? "duration (hh:mm:ss)"
            : target == typeof(DateOnly) ? "date (yyyy-mm-dd)"
            : target.Name;
    }

    /// <summary>Caller text quoted in an answer, cut at 64 characters.</summary>
    internal static string Echo(string text) => text.Length <= 64 ? text : $"{text[..64]}...";
}

/// <summary>Versions as entity tags: <c>"12"</c>.</summary>
public static class ETags
{
    /// <summary>The tag of <paramref name="version"/>.</summary>
    public static string Of(long version) => string.Create(CultureInfo.InvariantCulture, $"\"{version}\"");

    /// <summary>Reads <c>"12"</c> (or <c>12</c>, or a weak <c>W/"12"</c>) as version 12.</summary>
    public static bool TryParse(string text, out long version)
    {
        ArgumentNullException.ThrowIfNull(text);
        var span = text.AsSpan().Trim();
        if (span.StartsWith("W/", StringComparison.Ordinal))
        {
            span = span[2..];
        }

        if (span is ['"', .. var inner, '"'])
        {
            span = inner;
        }

        return long.TryParse(span, NumberStyles.None, CultureInfo.InvariantCulture, out version);
    }
}

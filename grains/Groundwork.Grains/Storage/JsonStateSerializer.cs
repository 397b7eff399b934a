using System.Text.Json;
using Orleans.Storage;

namespace Groundwork.Grains.Storage;

/// <summary>
/// Grain state as plain System.Text.Json, the same form the SQLite provider stores: no CLR type names in the
/// payload, so renaming a state class or moving it between assemblies never strands stored data (Orleans' default
/// storage serializer writes <c>$type</c> names).
/// </summary>
public sealed class JsonStateSerializer : IGrainStorageSerializer
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    /// <inheritdoc/>
    public BinaryData Serialize<T>(T? input) => new(JsonSerializer.SerializeToUtf8Bytes(input, Json));

    /// <inheritdoc/>
    public T Deserialize<T>(BinaryData input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return JsonSerializer.Deserialize<T>(input.ToMemory().Span, Json) ?? Activator.CreateInstance<T>();
    }
}

using System.Runtime.CompilerServices;
using System.Text.Json;
using Orleans.Storage;

namespace Groundwork.Grains.Storage;

/// <summary>
/// Grain state as plain System.Text.Json, for the Redis provider and the SQLite provider alike: no CLR type names in the
/// payload, so renaming a state class or moving it between assemblies never strands stored data (Orleans' default
/// storage serializer writes <c>$type</c> names). A state larger than <paramref name="maxStateBytes"/> is refused
/// with <see cref="LimitExceededException"/> before it is sent, so nothing is stored.
/// </summary>
public sealed class JsonStateSerializer(int maxStateBytes = SqliteStorageOptions.DefaultMaxStateBytes) : IGrainStorageSerializer
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General)
    {
        // Stored JSON is never put in a web page: escaping only what JSON itself needs keeps a formula's + and &, and
        // text beyond ASCII, as they are (the default writes each as \u002B, six bytes, and costs a sheet's tiles a
        // fifth of their size and of their write).
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new Resources.ElementPageConverterFactory(), new Sheets.CellDataConverter(), new Sheets.CellListConverter() },
    };

    // Providers fold a serializer's exception into their own (the Redis provider keeps only its message), so the
    // refusal is also noted here for the storage call that caused it (see NoteRefusals).
    private static readonly AsyncLocal<StrongBox<LimitExceededException?>?> Refusal = new();

    /// <summary>
    /// Notes, for the rest of the calling async method, a state this serializer refuses as too large, so a wrapper
    /// around the provider (<see cref="UnavailableStorageGuard"/>) can give the caller the typed limit error.
    /// </summary>
    public static StrongBox<LimitExceededException?> NoteRefusals()
    {
        var box = new StrongBox<LimitExceededException?>();
        Refusal.Value = box;
        return box;
    }

    /// <inheritdoc/>
    public BinaryData Serialize<T>(T? input) => new(ToUtf8(input));

    /// <inheritdoc/>
    public T Deserialize<T>(BinaryData input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return FromUtf8<T>(input.ToMemory().Span);
    }

    /// <summary>The state as UTF-8 JSON; over the size limit, <see cref="LimitExceededException"/> (also noted, see <see cref="NoteRefusals"/>).</summary>
    public byte[] ToUtf8<T>(T? input)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(input, Json);
        if (payload.Length <= maxStateBytes)
        {
            return payload;
        }

        var refused = new LimitExceededException(StorageLimits.MaxStateBytes, maxStateBytes, payload.Length);
        if (Refusal.Value is { } box)
        {
            box.Value = refused;
        }

        throw refused;
    }

    /// <summary>A state from UTF-8 JSON; <c>null</c> gives a new <typeparamref name="T"/>.</summary>
    public static T FromUtf8<T>(ReadOnlySpan<byte> utf8) =>
        JsonSerializer.Deserialize<T>(utf8, Json) ?? Activator.CreateInstance<T>();
}

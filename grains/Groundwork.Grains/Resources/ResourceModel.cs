using System.ComponentModel.DataAnnotations;
using Groundwork.Access;

namespace Groundwork.Grains.Resources;

/// <summary>
/// The head of a resource's stored state: what every mutation writes. A block's head derives from it and adds its
/// own small fields (a title, an index of chunks); large content lives in chunks (<see cref="ChunkSet{TChunk}"/>).
/// </summary>
public abstract class ResourceHead
{
    /// <summary>Whether the resource has been created.</summary>
    public bool Created { get; set; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Its version: the sequence of its newest change.</summary>
    public long Version { get; set; }

    /// <summary>Who may read and change it; set at creation.</summary>
    public AccessList? Access { get; set; }

    /// <summary>Whether the tenant directory has recorded the current entry.</summary>
    public bool Listed { get; set; }

    /// <summary>Kept out of the tenant directory (and its per-tenant count), as a direct conversation is.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool Unlisted { get; set; }

    /// <summary>
    /// The newest feed entries and operation records, kept here until they add up to a row batch and are moved to
    /// their collections (see <see cref="TailRow"/>); absent when empty.
    /// </summary>
    /// <remarks>The kit's own: a block never reads or writes it.</remarks>
    [System.Text.Json.Serialization.JsonInclude]
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    internal List<TailRow>? Tail { get; set; }
}

/// <summary>
/// A row of one of the kit's collections (<c>feed</c>, <c>ops</c>) that is stored inside the head for now.
/// </summary>
/// <remarks>
/// Each mutation appends a feed entry and an operation record. Written as rows one commit at a time, every resource
/// in a group commit touches its own index pages for them (measured: 11 of the 16 KB a mutation wrote to the log, with
/// 64 lists written in parallel). In the head, which every commit rewrites anyway, they cost only their bytes; once
/// the tail holds about 2 KB they go out as rows together, and share their index pages.
/// </remarks>
/// <param name="Collection">The collection the row belongs to.</param>
/// <param name="Key">Its key there.</param>
/// <param name="Payload">Its JSON, stored as is.</param>
internal sealed record TailRow(string Collection, string Key, [property: System.Text.Json.Serialization.JsonConverter(typeof(RawJsonConverter))] byte[] Payload);

/// <summary>Writes a UTF-8 JSON value as itself (not base64) and reads it back as its bytes.</summary>
internal sealed class RawJsonConverter : System.Text.Json.Serialization.JsonConverter<byte[]>
{
    public override byte[] Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options)
    {
        using var document = System.Text.Json.JsonDocument.ParseValue(ref reader);
        return System.Text.Encoding.UTF8.GetBytes(document.RootElement.GetRawText());
    }

    public override void Write(System.Text.Json.Utf8JsonWriter writer, byte[] value, System.Text.Json.JsonSerializerOptions options) =>
        writer.WriteRawValue(value, skipInputValidation: true);
}

/// <summary>
/// An operation id, who used it for which kind of mutation with which arguments (a fingerprint; empty in records
/// stored before it was kept), and the result it first produced.
/// </summary>
[GenerateSerializer, Immutable, Alias("gw.state.operation")]
public sealed record OperationRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] MutationResult Result,
    [property: Id(3)] string Kind = "",
    [property: Id(4)] string By = "",
    [property: Id(5)] string Arguments = "");

/// <summary>What the kit stamps on a change: its sequence, time and author.</summary>
public readonly record struct ChangeStamp(long Sequence, DateTimeOffset At, string By);

/// <summary>What a mutation did, before the kit stamps its change.</summary>
/// <param name="Change">
/// Builds the change from its stamp; null for a quiet mutation, which watchers do not see: what it changed (a
/// member's read marker) or nothing at all (a reaction already there) is committed with its operation record, and the
/// version stays.
/// </param>
/// <param name="Id">The element added or changed, returned in <see cref="MutationResult.Id"/>.</param>
/// <param name="Count">How many elements it affected.</param>
/// <param name="Unchanged">
/// Nothing changed (a reaction that was already there): nothing is committed, unless an operation id must be
/// remembered, and then only that. Needs <paramref name="Change"/> null.
/// </param>
public readonly record struct Applied<TChange>(Func<ChangeStamp, TChange>? Change, string? Id = null, int Count = 1, bool Unchanged = false)
    where TChange : IChange;

/// <summary>
/// The limits every building block has (feeds, idempotency, access lists, loaded chunks). A block's options derive
/// from it; they bind to <c>Groundwork:{Block}</c> and going past one raises <see cref="LimitExceededException"/>
/// named <c>{Block}:{Property}</c>.
/// </summary>
public abstract class ResourceOptions
{
    /// <summary>Changes kept for feed watchers; a cursor older than these must resync. Default 1,000.</summary>
    [Range(1, int.MaxValue)]
    public int FeedRetention { get; set; } = 1_000;

    /// <summary>
    /// How old a retained change may be and still be served; a cursor before the oldest young enough must resync.
    /// Default none: retention by count only.
    /// </summary>
    public TimeSpan? FeedRetentionAge { get; set; }

    /// <summary>
    /// Resources of this kind one tenant may hold, counted by its directory when one is created (those kept out of the
    /// directory, such as direct conversations, not counted). Default 100,000.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int MaxPerTenant { get; set; } = 100_000;

    /// <summary>Feed watchers open on one resource at once, from all callers. Default 1,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxWatchers { get; set; } = 1_000;

    /// <summary>Operation ids always remembered, however old. Default 1,000.</summary>
    [Range(0, int.MaxValue)]
    public int IdempotencyMinEntries { get; set; } = 1_000;

    /// <summary>How long every operation id is remembered, however many. Default 10 minutes.</summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The hard cap on remembered operation ids, which bounds state under sustained heavy load (past it, only the
    /// newest are kept even inside the window). Default 10,000.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int IdempotencyMaxEntries { get; set; } = 10_000;

    /// <summary>Characters in an operation id. Default 128.</summary>
    [Range(1, int.MaxValue)]
    public int MaxOperationIdLength { get; set; } = 128;

    /// <summary>Principals in a resource's access list (editors and viewers together). Default 1,000.</summary>
    [Range(0, int.MaxValue)]
    public int MaxAccessEntries { get; set; } = 1_000;

    /// <summary>
    /// Chunks one activation keeps in memory; past it the least recently used clean ones are dropped. Default 4,096;
    /// 0 for a block that keeps its own model of them (a chunk is then held only until it is committed).
    /// </summary>
    [Range(0, int.MaxValue)]
    public int MaxLoadedChunks { get; set; } = 4_096;
}

/// <summary>The idempotency window's rule, kept apart so it can be tested with any clock.</summary>
internal static class OperationLog
{
    /// <summary>
    /// How many of the oldest records (oldest first) to drop: while more than <see cref="ResourceOptions.IdempotencyMinEntries"/>
    /// remain and the oldest is either older than <see cref="ResourceOptions.IdempotencyWindow"/> or past the hard cap
    /// <see cref="ResourceOptions.IdempotencyMaxEntries"/>. So a record lives while it is among the newest minimum or
    /// inside the window, and the state never holds more than the cap.
    /// </summary>
    public static int ToDrop(IReadOnlyList<OperationRecord> operations, DateTimeOffset now, ResourceOptions limits)
    {
        var cutoff = now - limits.IdempotencyWindow;
        var drop = 0;
        while (operations.Count - drop > limits.IdempotencyMinEntries &&
               (operations[drop].At < cutoff || operations.Count - drop > limits.IdempotencyMaxEntries))
        {
            drop++;
        }

        return drop;
    }

    /// <summary>Drops what <see cref="ToDrop"/> says.</summary>
    public static void Trim(List<OperationRecord> operations, DateTimeOffset now, ResourceOptions limits) =>
        operations.RemoveRange(0, ToDrop(operations, now, limits));
}

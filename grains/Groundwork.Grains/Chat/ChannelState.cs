using System.Text.Json.Serialization;
using Groundwork.Chat;
using Groundwork.Grains.Resources;

namespace Groundwork.Grains.Chat;

/// <summary>
/// The head of a channel's stored state, written by every mutation, so it holds only what does not grow with the
/// history: the channel's settings, where its message pages are, its pins and its recent <c>@channel</c> mentions.
/// Messages are in pages (<see cref="MessageChunk"/>), the closed pages' summaries in index chunks
/// (<see cref="IndexChunk"/>), members in buckets (<see cref="MemberBucket"/>).
/// </summary>
public sealed class ChannelHead : ResourceHead
{
    /// <summary>The display name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The topic.</summary>
    public string Topic { get; set; } = "";

    /// <summary>Members only.</summary>
    public bool Private { get; set; }

    /// <summary>A direct conversation (its members fixed, its key derived from them).</summary>
    public bool Direct { get; set; }

    /// <summary>Messages and replies ever posted.</summary>
    public long Posted { get; set; }

    /// <summary>Message pages (<c>m0</c> ...); the last one is open and takes the next message.</summary>
    public int Pages { get; set; }

    /// <summary>The sequence of the open page's first message.</summary>
    public long OpenFirst { get; set; }

    /// <summary>Closed pages one index chunk summarizes (<see cref="ChatOptions.PagesPerIndexChunk"/> when the channel was made).</summary>
    public int IndexSpan { get; set; } = 256;

    /// <summary>The first sequence of each index chunk (<c>x0</c> ...): where to look a sequence up.</summary>
    public List<long> IndexStarts { get; set; } = [];

    /// <summary>The newest message in the channel (not a reply); 0 for none.</summary>
    public long LastMessage { get; set; }

    /// <summary>When it was posted.</summary>
    public DateTimeOffset? LastMessageAt { get; set; }

    /// <summary>Who posted it.</summary>
    public string? LastAuthor { get; set; }

    /// <summary>Its first characters, for inboxes; null once deleted.</summary>
    public string? LastPreview { get; set; }

    /// <summary>Joins and departures not yet recorded in the members' inboxes (delivered after the commit, again on activation).</summary>
    public List<InboxUpdate> InboxPending { get; set; } = [];

    /// <summary>Pinned messages, oldest pin first.</summary>
    public List<long> Pins { get; set; } = [];

    /// <summary>The newest messages that mention <c>@channel</c> (at most <see cref="ChannelGrain.ChannelMentionsKept"/>).</summary>
    public List<ChannelMention> ChannelMentions { get; set; } = [];

    /// <summary>How many members there are.</summary>
    public int MemberCount { get; set; }

    /// <summary>Slow mode: how often a member may post; zero for off.</summary>
    public TimeSpan SlowMode { get; set; }
}

/// <summary>A member's inbox is to gain (<paramref name="Member"/> true) or lose the channel.</summary>
public sealed record InboxUpdate(string Principal, bool Member);

/// <summary>A message that mentions <c>@channel</c>, and its author (whose own mention does not count).</summary>
public sealed record ChannelMention(long Sequence, string By);

/// <summary>
/// One message or reply as stored. Immutable: a change makes a new one, so its page can reuse the JSON of the others.
/// Fields at their defaults are left out of the JSON (a page is rewritten by every post in it).
/// </summary>
public sealed record StoredMessage(
    long Seq,
    string Author,
    DateTimeOffset At,
    string Text,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] string? Payload = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] IReadOnlyList<string>? Mentions = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool MentionsChannel = false,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] IReadOnlyList<Attachment>? Attachments = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] long? Root = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int ThreadTotal = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int Replies = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] DateTimeOffset? LastReplyAt = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] IReadOnlyList<string>? Participants = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] IReadOnlyList<StoredReaction>? Reactions = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int Edits = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] DateTimeOffset? EditedAt = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool Pinned = false,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] string? DeletedBy = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] DateTimeOffset? DeletedAt = null)
{
    /// <summary>Whether it is a tombstone.</summary>
    [JsonIgnore]
    public bool IsDeleted => DeletedAt is not null;

    /// <summary>Its approximate stored size, which bounds a page's.</summary>
    [JsonIgnore]
    public int ApproximateBytes => 160 + (Text.Length * 2) + (Payload?.Length ?? 0) + ((Mentions?.Count ?? 0) * 24) + ((Attachments?.Count ?? 0) * 300);
}

/// <summary>One reaction key on a message and who reacted with it, first first.</summary>
public sealed record StoredReaction(string Key, IReadOnlyList<string> By);

/// <summary>A run of consecutive messages and replies (collection <c>msgs</c>, chunk <c>m{n}</c>).</summary>
public sealed class MessageChunk : ElementPage<StoredMessage>;

/// <summary>A closed message page's summary, enough to skip it or count its unread messages without loading it.</summary>
/// <param name="First">Its first sequence.</param>
/// <param name="Last">Its last sequence.</param>
/// <param name="TopLevel">Messages in it that are not replies, tombstones included.</param>
/// <param name="Live">Of those, the ones not deleted.</param>
public sealed record PageEntry(long First, long Last, int TopLevel, int Live)
{
    /// <summary>The summary of <paramref name="page"/>; an empty page's first and last are <paramref name="whenEmpty"/>.</summary>
    public static PageEntry Of(IReadOnlyList<StoredMessage> page, long whenEmpty)
    {
        ArgumentNullException.ThrowIfNull(page);
        return new(page.Count > 0 ? page[0].Seq : whenEmpty, page.Count > 0 ? page[^1].Seq : whenEmpty,
            page.Count(m => m.Root is null), page.Count(m => m.Root is null && !m.IsDeleted));
    }
}

/// <summary>The summaries of <see cref="ChannelHead.IndexSpan"/> consecutive closed pages (collection <c>index</c>, chunk <c>x{n}</c>).</summary>
public sealed class IndexChunk
{
    /// <summary>The pages' summaries, in page order.</summary>
    public List<PageEntry> Pages { get; set; } = [];
}

/// <summary>The sequences of a thread's replies, in order (collection <c>threads</c>, chunk <c>t{root}.{n}</c>).</summary>
public sealed class ThreadChunk
{
    /// <summary>Reply sequences.</summary>
    public List<long> Replies { get; set; } = [];
}

/// <summary>The earlier versions of a message's text, the original first (collection <c>versions</c>, chunk <c>v{seq}</c>).</summary>
public sealed class VersionChunk
{
    /// <summary>The versions before the current text.</summary>
    public List<MessageVersion> Versions { get; set; } = [];
}

/// <summary>The members whose id hashes to one bucket (collection <c>members</c>, chunk <c>b{n}</c>).</summary>
public sealed class MemberBucket
{
    /// <summary>Members by principal id.</summary>
    public Dictionary<string, MemberState> Members { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One member: role, when they joined, their read marker and the messages that mention them since it.</summary>
public sealed class MemberState
{
    /// <summary>Their channel role.</summary>
    public ChannelRole Role { get; set; } = ChannelRole.Member;

    /// <summary>When they joined.</summary>
    public DateTimeOffset JoinedAt { get; set; }

    /// <summary>The read marker: everything up to this sequence is read.</summary>
    public long Read { get; set; }

    /// <summary>Messages after the marker that mention them, oldest first; null when none.</summary>
    public List<long>? Mentions { get; set; }

    /// <summary>When they last posted (slow mode counts from it).</summary>
    public DateTimeOffset? LastPostAt { get; set; }
}

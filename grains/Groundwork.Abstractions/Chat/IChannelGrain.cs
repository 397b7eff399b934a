using System.Security.Cryptography;
using System.Text;
using Groundwork.Access;

namespace Groundwork.Chat;

/// <summary>
/// A chat channel: its members and their roles, its messages with threads, reactions, edits and pins, and each
/// member's read marker. Keyed by a <see cref="ResourceKey"/> of kind <c>channel</c> (<c>{tenant}/channel/{name}</c>);
/// a direct conversation's key comes from its members (<see cref="ChannelKeys.Direct"/>).
/// </summary>
/// <remarks>
/// <para>
/// Who may do what: tenant admins and owners everything. Otherwise a public channel may be read by every member of
/// the tenant, a private one by its members only; members with the tenant role Member or above post, react, pin and
/// invite; channel moderators and owners also rename, set the topic, remove members and mention <c>@channel</c>; only
/// channel owners change roles.
/// </para>
/// <para>
/// The channel's sequence is the one order: every change (a post, an edit, a reaction, a member joining) takes the
/// next <see cref="ChannelChange.Sequence"/>, and a message is named by the sequence of its post. The silo's clock
/// only labels. Every mutation takes <see cref="MutationOptions"/>: a retried operation id returns the first result;
/// the same id with other arguments is an <see cref="OperationConflictException"/>.
/// </para>
/// </remarks>
[Alias("gw.channel"), ResourceKind("channel", "chat")]
public interface IChannelGrain : IFeedResource<ChannelChange>
{
    /// <summary>Creates the channel; the caller becomes its owner and first member.</summary>
    /// <exception cref="AlreadyExistsException">It exists.</exception>
    /// <exception cref="InvalidResourceKeyException">The key's name starts with <c>dm-</c>, which direct conversations use.</exception>
    [Alias("create"), Requires(Requirement.Write)]
    Task<MutationResult> CreateAsync(NewChannel settings, MutationOptions? options = null);

    /// <summary>
    /// Opens the direct conversation between the caller and <paramref name="members"/>: created private the first
    /// time, found again (and not changed) after that. The grain's key must be <see cref="ChannelKeys.Direct"/> of them.
    /// </summary>
    /// <param name="members">The other members (the caller is added); 1 to 8 others by default.</param>
    /// <param name="options">Guards.</param>
    [Alias("open-direct"), Requires(Requirement.Write)]
    Task<MutationResult> OpenDirectAsync(IReadOnlyList<string> members, MutationOptions? options = null);

    /// <summary>Changes the channel's display name (its key stays).</summary>
    [Alias("rename"), Requires(Requirement.Admin)]
    Task<MutationResult> RenameAsync(string name, MutationOptions? options = null);

    /// <summary>Sets the topic (empty clears it).</summary>
    [Alias("set-topic"), Requires(Requirement.Admin)]
    Task<MutationResult> SetTopicAsync(string topic, MutationOptions? options = null);

    /// <summary>
    /// Sets slow mode: each member (moderators aside) may post once per <paramref name="interval"/>, from 0 (off) to 6
    /// hours; a faster post is refused with <see cref="RateLimitedException"/> carrying the time to wait.
    /// </summary>
    [Alias("set-slow-mode"), Requires(Requirement.Admin)]
    Task<MutationResult> SetSlowModeAsync(TimeSpan interval, MutationOptions? options = null);

    /// <summary>Joins a public channel as a member (a member already: nothing changes).</summary>
    [Alias("join"), Requires(Requirement.Read)]
    Task<MutationResult> JoinAsync(MutationOptions? options = null);

    /// <summary>Leaves the channel.</summary>
    /// <exception cref="NotFoundException">The caller is not a member.</exception>
    [Alias("leave"), Requires(Requirement.Read)]
    Task<MutationResult> LeaveAsync(MutationOptions? options = null);

    /// <summary>Adds principals as members (those already members are skipped).</summary>
    [Alias("invite"), Requires(Requirement.Write)]
    Task<MutationResult> InviteAsync(IReadOnlyList<string> principals, MutationOptions? options = null);

    /// <summary>Removes a member. For moderators; only an owner removes an owner.</summary>
    [Alias("remove-member"), Requires(Requirement.Admin)]
    Task<MutationResult> RemoveMemberAsync(string principal, MutationOptions? options = null);

    /// <summary>Sets a member's channel role. For channel owners.</summary>
    [Alias("set-role"), Requires(Requirement.Admin)]
    Task<MutationResult> SetRoleAsync(string principal, ChannelRole role, MutationOptions? options = null);

    /// <summary>
    /// Posts a message, or a reply in a thread (<see cref="NewMessage.ReplyTo"/>); the caller's read marker moves to it
    /// (for a post in the channel, not a reply).
    /// </summary>
    /// <returns>The result; <see cref="MutationResult.Version"/> (and <see cref="MutationResult.Id"/>) is the message's sequence.</returns>
    [Alias("post"), Requires(Requirement.Write)]
    Task<MutationResult> PostAsync(NewMessage message, MutationOptions? options = null);

    /// <summary>Replaces the text of one's own message; every earlier version stays readable (<see cref="GetVersionsAsync"/>).</summary>
    /// <exception cref="AccessDeniedException">The message is someone else's.</exception>
    /// <exception cref="InvalidRequestException">The message is deleted.</exception>
    [Alias("edit"), Requires(Requirement.Write)]
    Task<MutationResult> EditAsync(long message, string text, MutationOptions? options = null);

    /// <summary>
    /// Deletes a message: its author, or a moderator for any. A tombstone keeps its sequence, author, who deleted it
    /// and when; its text, versions and reactions are gone. Deleting a deleted message changes nothing.
    /// </summary>
    [Alias("delete"), Requires(Requirement.Write)]
    Task<MutationResult> DeleteAsync(long message, MutationOptions? options = null);

    /// <summary>
    /// Adds (<paramref name="on"/> true) or removes the caller's reaction <paramref name="key"/> on a message; one per
    /// member and key, so repeating it changes nothing.
    /// </summary>
    [Alias("react"), Requires(Requirement.Write)]
    Task<MutationResult> ReactAsync(long message, string key, bool on = true, MutationOptions? options = null);

    /// <summary>Pins or unpins a message (pinning a pinned one changes nothing).</summary>
    [Alias("pin"), Requires(Requirement.Write)]
    Task<MutationResult> PinAsync(long message, bool pinned = true, MutationOptions? options = null);

    /// <summary>
    /// Moves the caller's read marker forward to <paramref name="sequence"/> (never back; past the newest message it
    /// stops there). Not a change in the feed: other members do not see it.
    /// </summary>
    /// <exception cref="AccessDeniedException">The caller is not a member.</exception>
    [Alias("mark-read"), Requires(Requirement.Read)]
    Task<MutationResult> MarkReadAsync(long sequence, MutationOptions? options = null);

    /// <summary>
    /// Says the caller is typing (in the thread of <paramref name="thread"/>, or in the channel), or stopped. Shown to
    /// live watchers until 10 seconds after the last signal, or a post; not stored. Off in channels of more than 100
    /// members.
    /// </summary>
    /// <returns>Whether it is shown (false in a channel too large for typing indicators).</returns>
    [Alias("typing"), Requires(Requirement.Write)]
    Task<bool> TypingAsync(long? thread = null, bool typing = true);

    /// <summary>
    /// The channel's live state (who is typing): the state now, then the whole state again each time it changes. Not
    /// stored and not replayed; ends like <see cref="IFeedResource{TChange}.WatchAsync"/>.
    /// </summary>
    [Alias("watch-live"), Requires(Requirement.Read), Safe]
    IAsyncEnumerable<ChannelLive> WatchLiveAsync(CancellationToken cancellationToken = default);

    /// <summary>The channel: its name, topic, kind, member count, the caller's role and its newest message.</summary>
    /// <exception cref="NotFoundException">The channel has not been created.</exception>
    [Alias("get"), Requires(Requirement.Read), Safe]
    Task<ChannelInfo> GetAsync();

    /// <summary>A page of the channel's messages (not thread replies), oldest first, tombstones in place.</summary>
    [Alias("history"), Requires(Requirement.Read), Safe]
    Task<MessagePage> GetHistoryAsync(HistoryQuery? query = null);

    /// <summary>A page of the replies of the thread under <paramref name="root"/>, oldest first.</summary>
    [Alias("thread"), Requires(Requirement.Read), Safe]
    Task<MessagePage> GetThreadAsync(long root, HistoryQuery? query = null);

    /// <summary>One message.</summary>
    /// <exception cref="NotFoundException">No message has that sequence.</exception>
    [Alias("message"), Requires(Requirement.Read), Safe]
    Task<ChatMessage> GetMessageAsync(long message);

    /// <summary>Every version of a message's text, the original first; empty for a deleted message.</summary>
    [Alias("versions"), Requires(Requirement.Read), Safe]
    Task<IReadOnlyList<MessageVersion>> GetVersionsAsync(long message);

    /// <summary>The pinned messages, oldest pin first.</summary>
    [Alias("pins"), Requires(Requirement.Read), Safe]
    Task<IReadOnlyList<ChatMessage>> GetPinnedAsync();

    /// <summary>Members ordered by principal id, from after <paramref name="after"/>; at most <paramref name="limit"/> (1-1,000).</summary>
    [Alias("members"), Requires(Requirement.Read), Safe]
    Task<MemberPage> GetMembersAsync(string? after = null, int limit = 100);

    /// <summary>The caller's entry for their inbox (<see cref="IInboxGrain"/>); null when they are not a member.</summary>
    [Alias("inbox-entry"), Requires(Requirement.Read), Safe]
    Task<InboxEntry?> GetInboxEntryAsync();

    /// <summary>The caller's read marker, unread count (exact up to 9,999) and mention count.</summary>
    /// <exception cref="AccessDeniedException">The caller is not a member.</exception>
    [Alias("unread"), Requires(Requirement.Read), Safe]
    Task<UnreadState> GetUnreadAsync();
}

/// <summary>A member's role in a channel; each includes the ones below it.</summary>
public enum ChannelRole
{
    /// <summary>Reads, posts, reacts, pins, invites.</summary>
    Member = 1,

    /// <summary>Also renames, sets the topic, removes members, deletes any message, mentions <c>@channel</c>.</summary>
    Moderator = 2,

    /// <summary>Also changes roles.</summary>
    Owner = 3,
}

/// <summary>A new channel's settings.</summary>
/// <param name="Name">Its display name: 1-80 characters.</param>
/// <param name="Topic">Up to 250 characters.</param>
/// <param name="Private">Members only (true), or readable and joinable by every member of the tenant.</param>
[GenerateSerializer, Immutable, Alias("gw.new-channel")]
public sealed record NewChannel(
    [property: Id(0)] string Name,
    [property: Id(1)] string? Topic = null,
    [property: Id(2)] bool Private = false);

/// <summary>A message to post.</summary>
/// <param name="Text">Up to 4,000 characters; may be empty when there is a payload or an attachment.</param>
/// <param name="Payload">The application's own data (for example JSON), up to 64 KiB of UTF-8.</param>
/// <param name="Mentions">Members mentioned, by principal id (never parsed from the text); up to 50.</param>
/// <param name="MentionChannel">Mentions every member (<c>@channel</c>): for moderators.</param>
/// <param name="Attachments">Up to 10 references to content stored elsewhere.</param>
/// <param name="ReplyTo">Replies in the thread of this message (a reply to a reply goes to its root).</param>
[GenerateSerializer, Immutable, Alias("gw.new-message")]
public sealed record NewMessage(
    [property: Id(0)] string Text,
    [property: Id(1)] string? Payload = null,
    [property: Id(2)] IReadOnlyList<string>? Mentions = null,
    [property: Id(3)] bool MentionChannel = false,
    [property: Id(4)] IReadOnlyList<Attachment>? Attachments = null,
    [property: Id(5)] long? ReplyTo = null);

/// <summary>A reference to content kept outside the channel (the channel stores only this).</summary>
/// <param name="Name">A file name or label: 1-255 characters.</param>
/// <param name="Reference">Where the content is (a URL, a blob key): 1-2,048 characters.</param>
/// <param name="ContentType">A media type, up to 255 characters.</param>
/// <param name="Size">Its size in bytes, if known.</param>
[GenerateSerializer, Immutable, Alias("gw.attachment")]
public sealed record Attachment(
    [property: Id(0)] string Name,
    [property: Id(1)] string Reference,
    [property: Id(2)] string? ContentType = null,
    [property: Id(3)] long? Size = null);

/// <summary>One message as a member reads it.</summary>
/// <param name="Sequence">Its sequence: its id and its place in the channel's order.</param>
/// <param name="Author">Who posted it.</param>
/// <param name="At">When (silo clock).</param>
/// <param name="Text">Its current text; empty when deleted.</param>
/// <param name="Payload">The application's data; null when deleted.</param>
/// <param name="Mentions">Members mentioned.</param>
/// <param name="MentionsChannel">Whether it mentions <c>@channel</c>.</param>
/// <param name="Attachments">Its attachment references.</param>
/// <param name="Root">For a thread reply, the thread's root message.</param>
/// <param name="Thread">For a root with replies, the thread's summary.</param>
/// <param name="Reactions">Reactions: each key with its count and whether the reader is among them.</param>
/// <param name="Edits">How many times its text was edited (versions: <see cref="IChannelGrain.GetVersionsAsync"/>).</param>
/// <param name="EditedAt">When last edited.</param>
/// <param name="Pinned">Whether it is pinned.</param>
/// <param name="Deleted">For a tombstone: who deleted it and when.</param>
[GenerateSerializer, Immutable, Alias("gw.chat-message")]
public sealed record ChatMessage(
    [property: Id(0)] long Sequence,
    [property: Id(1)] string Author,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] string Text,
    [property: Id(4)] string? Payload,
    [property: Id(5)] IReadOnlyList<string> Mentions,
    [property: Id(6)] bool MentionsChannel,
    [property: Id(7)] IReadOnlyList<Attachment> Attachments,
    [property: Id(8)] long? Root,
    [property: Id(9)] ThreadSummary? Thread,
    [property: Id(10)] IReadOnlyList<ReactionCount> Reactions,
    [property: Id(11)] int Edits,
    [property: Id(12)] DateTimeOffset? EditedAt,
    [property: Id(13)] bool Pinned,
    [property: Id(14)] MessageDeletion? Deleted);

/// <summary>A thread's summary, carried by its root.</summary>
/// <param name="Replies">Replies not deleted.</param>
/// <param name="LastReplyAt">When the newest reply was posted.</param>
/// <param name="Participants">Who replied, first reply first (at most 100 named).</param>
[GenerateSerializer, Immutable, Alias("gw.thread-summary")]
public sealed record ThreadSummary(
    [property: Id(0)] int Replies,
    [property: Id(1)] DateTimeOffset LastReplyAt,
    [property: Id(2)] IReadOnlyList<string> Participants);

/// <summary>One reaction key on a message.</summary>
/// <param name="Key">The key (an emoji, a short name): up to 64 bytes of UTF-8.</param>
/// <param name="Count">How many members reacted with it.</param>
/// <param name="Mine">Whether the reader did.</param>
[GenerateSerializer, Immutable, Alias("gw.reaction-count")]
public sealed record ReactionCount(
    [property: Id(0)] string Key,
    [property: Id(1)] int Count,
    [property: Id(2)] bool Mine);

/// <summary>Who deleted a message, and when.</summary>
[GenerateSerializer, Immutable, Alias("gw.message-deletion")]
public sealed record MessageDeletion(
    [property: Id(0)] string By,
    [property: Id(1)] DateTimeOffset At);

/// <summary>One version of a message's text.</summary>
/// <param name="Version">0 for the original, then 1, 2, ... for each edit.</param>
/// <param name="Text">The text.</param>
/// <param name="At">When it was written.</param>
[GenerateSerializer, Immutable, Alias("gw.message-version")]
public sealed record MessageVersion(
    [property: Id(0)] int Version,
    [property: Id(1)] string Text,
    [property: Id(2)] DateTimeOffset At);

/// <summary>Where a history page starts.</summary>
public enum HistoryAnchor
{
    /// <summary>The newest messages.</summary>
    Newest = 0,

    /// <summary>The oldest messages.</summary>
    Oldest = 1,

    /// <summary>From the reader's first unread message (the newest when none is unread).</summary>
    FirstUnread = 2,

    /// <summary>The messages just before <see cref="HistoryQuery.Sequence"/>.</summary>
    Before = 3,

    /// <summary>The messages just after <see cref="HistoryQuery.Sequence"/>.</summary>
    After = 4,

    /// <summary>The messages around <see cref="HistoryQuery.Sequence"/>, it included.</summary>
    Around = 5,
}

/// <summary>Which page of history to read.</summary>
/// <param name="Anchor">Where the page starts.</param>
/// <param name="Sequence">The sequence for <see cref="HistoryAnchor.Before"/>, <see cref="HistoryAnchor.After"/> and <see cref="HistoryAnchor.Around"/>.</param>
/// <param name="Limit">Messages in the page: 50 by default, at most 200.</param>
[GenerateSerializer, Immutable, Alias("gw.history-query")]
public sealed record HistoryQuery(
    [property: Id(0)] HistoryAnchor Anchor = HistoryAnchor.Newest,
    [property: Id(1)] long? Sequence = null,
    [property: Id(2)] int? Limit = null);

/// <summary>A page of messages, oldest first; deleted messages are tombstones in their place.</summary>
/// <param name="Messages">The messages.</param>
/// <param name="ReachedOldest">Nothing is older than the first message (or the page is empty and nothing is before it).</param>
/// <param name="ReachedNewest">Nothing is newer than the last message.</param>
/// <param name="Version">The channel's version when the page was read: watch from it to follow.</param>
[GenerateSerializer, Immutable, Alias("gw.message-page")]
public sealed record MessagePage(
    [property: Id(0)] IReadOnlyList<ChatMessage> Messages,
    [property: Id(1)] bool ReachedOldest,
    [property: Id(2)] bool ReachedNewest,
    [property: Id(3)] long Version);

/// <summary>A channel as a reader sees it.</summary>
/// <param name="Key">Its key.</param>
/// <param name="Name">Its display name (empty for a direct conversation).</param>
/// <param name="Topic">Its topic.</param>
/// <param name="Private">Whether only members may read it.</param>
/// <param name="Direct">Whether it is a direct conversation.</param>
/// <param name="Version">Its version.</param>
/// <param name="Members">How many members it has.</param>
/// <param name="MyRole">The reader's role; null when not a member.</param>
/// <param name="LastMessage">The sequence of its newest message in the channel (not a thread reply); 0 for none.</param>
/// <param name="LastMessageAt">When that was posted.</param>
/// <param name="Messages">Messages and replies posted, deleted ones included.</param>
/// <param name="SlowMode">How often a member may post; zero when slow mode is off.</param>
[GenerateSerializer, Immutable, Alias("gw.channel-info")]
public sealed record ChannelInfo(
    [property: Id(0)] string Key,
    [property: Id(1)] string Name,
    [property: Id(2)] string Topic,
    [property: Id(3)] bool Private,
    [property: Id(4)] bool Direct,
    [property: Id(5)] long Version,
    [property: Id(6)] int Members,
    [property: Id(7)] ChannelRole? MyRole,
    [property: Id(8)] long LastMessage,
    [property: Id(9)] DateTimeOffset? LastMessageAt,
    [property: Id(10)] long Messages,
    [property: Id(11)] TimeSpan SlowMode);

/// <summary>A channel member.</summary>
[GenerateSerializer, Immutable, Alias("gw.channel-member")]
public sealed record ChannelMember(
    [property: Id(0)] string Principal,
    [property: Id(1)] ChannelRole Role,
    [property: Id(2)] DateTimeOffset JoinedAt);

/// <summary>A page of members; <paramref name="Next"/> is the <c>after</c> of the next page, null at the end.</summary>
[GenerateSerializer, Immutable, Alias("gw.member-page")]
public sealed record MemberPage(
    [property: Id(0)] IReadOnlyList<ChannelMember> Members,
    [property: Id(1)] string? Next);

/// <summary>A member's read state in a channel.</summary>
/// <param name="ReadUpTo">The read marker: everything up to this sequence is read.</param>
/// <param name="Unread">Messages by others after the marker, not deleted, thread replies not counted; at most 9,999.</param>
/// <param name="MoreUnread">More than <see cref="Unread"/> are unread ("9,999+").</param>
/// <param name="Mentions">Messages and replies after the marker that mention the member or <c>@channel</c>, not deleted.</param>
[GenerateSerializer, Immutable, Alias("gw.unread-state")]
public sealed record UnreadState(
    [property: Id(0)] long ReadUpTo,
    [property: Id(1)] int Unread,
    [property: Id(2)] bool MoreUnread,
    [property: Id(3)] int Mentions);

/// <summary>A channel's live state.</summary>
/// <param name="Typing">Who is typing now, and where.</param>
[GenerateSerializer, Immutable, Alias("gw.channel-live")]
public sealed record ChannelLive(
    [property: Id(0)] IReadOnlyList<Typist> Typing);

/// <summary>A member typing, in the channel or in the thread of <paramref name="Thread"/>.</summary>
[GenerateSerializer, Immutable, Alias("gw.typist")]
public sealed record Typist(
    [property: Id(0)] string Principal,
    [property: Id(1)] long? Thread);

/// <summary>What kind of change a <see cref="ChannelChange"/> records.</summary>
public enum ChannelChangeKind
{
    /// <summary>The channel was created (<see cref="ChannelChange.Name"/>, <see cref="ChannelChange.Principals"/> its first members).</summary>
    Created = 0,

    /// <summary>Renamed (<see cref="ChannelChange.Name"/>).</summary>
    Renamed = 1,

    /// <summary>The topic changed (<see cref="ChannelChange.Topic"/>).</summary>
    TopicChanged = 2,

    /// <summary>Members joined or were invited (<see cref="ChannelChange.Principals"/>).</summary>
    MembersAdded = 3,

    /// <summary>A member left or was removed (<see cref="ChannelChange.Principals"/>; <see cref="ChannelChange.By"/> who did it).</summary>
    MemberRemoved = 4,

    /// <summary>A member's role changed (<see cref="ChannelChange.Principals"/>, <see cref="ChannelChange.Role"/>).</summary>
    RoleChanged = 5,

    /// <summary>A message or reply was posted (<see cref="ChannelChange.Message"/>).</summary>
    Posted = 6,

    /// <summary>A message's text changed (<see cref="ChannelChange.Message"/> as it is now).</summary>
    Edited = 7,

    /// <summary>A message was deleted (<see cref="ChannelChange.Message"/>: its tombstone; for a reply, its root has one reply fewer).</summary>
    Deleted = 8,

    /// <summary><see cref="ChannelChange.By"/> reacted to <see cref="ChannelChange.Target"/> with <see cref="ChannelChange.Key"/>.</summary>
    ReactionAdded = 9,

    /// <summary><see cref="ChannelChange.By"/> took back reaction <see cref="ChannelChange.Key"/> on <see cref="ChannelChange.Target"/>.</summary>
    ReactionRemoved = 10,

    /// <summary><see cref="ChannelChange.Target"/> was pinned.</summary>
    Pinned = 11,

    /// <summary><see cref="ChannelChange.Target"/> was unpinned.</summary>
    Unpinned = 12,

    /// <summary>Slow mode changed (<see cref="ChannelChange.SlowMode"/>).</summary>
    SlowModeChanged = 13,
}

/// <summary>One change of a channel, as its feed delivers it.</summary>
/// <param name="Sequence">The channel's version after this change; consecutive, starting at 1.</param>
/// <param name="Kind">What happened.</param>
/// <param name="At">When (silo clock).</param>
/// <param name="By">Who did it.</param>
/// <param name="Message">The message concerned as it is after the change (posts, edits, deletes; reactions not included).</param>
/// <param name="Target">The message a reaction or pin concerns.</param>
/// <param name="Key">The reaction key.</param>
/// <param name="Principals">The members concerned (membership changes).</param>
/// <param name="Role">The role given.</param>
/// <param name="Name">The channel's name (create, rename).</param>
/// <param name="Topic">The topic (create, topic changes).</param>
/// <param name="SlowMode">The slow-mode interval (slow-mode changes).</param>
[GenerateSerializer, Immutable, Alias("gw.channel-change")]
public sealed record ChannelChange(
    [property: Id(0)] long Sequence,
    [property: Id(1)] ChannelChangeKind Kind,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] string By,
    [property: Id(4)] ChatMessage? Message = null,
    [property: Id(5)] long? Target = null,
    [property: Id(6)] string? Key = null,
    [property: Id(7)] IReadOnlyList<string>? Principals = null,
    [property: Id(8)] ChannelRole? Role = null,
    [property: Id(9)] string? Name = null,
    [property: Id(10)] string? Topic = null,
    [property: Id(11)] TimeSpan? SlowMode = null) : IChange;

/// <summary>Channel keys.</summary>
public static class ChannelKeys
{
    /// <summary>The prefix of direct conversations' names, which <see cref="IChannelGrain.CreateAsync"/> refuses.</summary>
    public const string DirectPrefix = "dm-";

    /// <summary>
    /// The key of the direct conversation between <paramref name="members"/> in <paramref name="tenant"/>: the same for
    /// the same members in any order, so opening a conversation twice finds the same channel.
    /// </summary>
    public static ResourceKey Direct(string tenant, IEnumerable<string> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        var sorted = members.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', sorted)));
        return ResourceKey.Create(tenant, "channel", DirectPrefix + Convert.ToHexStringLower(hash.AsSpan(0, 16)));
    }
}

/// <summary>Getting channel grains by key.</summary>
public static class ChannelGrainFactoryExtensions
{
    /// <summary>The channel at <paramref name="key"/>.</summary>
    /// <exception cref="InvalidResourceKeyException">The key is not a channel's: nothing is sent.</exception>
    public static IChannelGrain GetChannel(this IGrainFactory factory, ResourceKey key) => factory.GetResource<IChannelGrain>(key);

    /// <summary>The channel at <paramref name="key"/> (<c>{tenant}/channel/{name}</c>), parsed first.</summary>
    /// <exception cref="InvalidResourceKeyException">The key is malformed: nothing is sent.</exception>
    public static IChannelGrain GetChannel(this IGrainFactory factory, string key) => factory.GetResource<IChannelGrain>(key);

    /// <summary>The direct conversation between <paramref name="members"/> (the caller among them) in <paramref name="tenant"/>.</summary>
    public static IChannelGrain GetDirectChannel(this IGrainFactory factory, string tenant, IEnumerable<string> members) =>
        factory.GetResource<IChannelGrain>(ChannelKeys.Direct(tenant, members));
}

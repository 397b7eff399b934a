using System.Security.Cryptography;
using System.Text;
using Groundwork.Access;

namespace Groundwork.Chat;

/// <summary>
/// A member's inbox: the channels they belong to, newest activity first, each with its unread and mention counts and
/// a preview of its last message. Keyed by <see cref="InboxKeys.For"/>; only its member reads it (tenant admins too
/// are refused: its counts are the reader's own).
/// </summary>
/// <remarks>
/// The inbox holds only which channels to ask: each read asks every channel for the member's counts (fan-in), so a
/// post writes nothing per member. Channels record joins and departures here themselves.
/// </remarks>
[Alias("gw.inbox"), ResourceKind("inbox", "chat")]
public interface IInboxGrain : IGrainWithStringKey
{
    /// <summary>
    /// Entries <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="limit"/> (1-200) of the inbox,
    /// ordered by last message, newest first. Reactions and edits do not move a channel.
    /// </summary>
    [Alias("list"), Requires(Requirement.Read), Safe]
    Task<InboxPage> ListAsync(int offset = 0, int limit = 50);

    /// <summary>Records that the member joined (<paramref name="member"/> true) or left <paramref name="channel"/>. Called by channels.</summary>
    [Alias("track"), Requires(Requirement.Write), DotNetOnly("channels record their members here themselves")]
    Task TrackAsync(string channel, bool member);
}

/// <summary>One channel in an inbox.</summary>
/// <param name="Channel">The channel's key.</param>
/// <param name="Name">Its name (empty for a direct conversation).</param>
/// <param name="Direct">Whether it is a direct conversation.</param>
/// <param name="LastMessage">Its newest message (not a reply); 0 for none.</param>
/// <param name="LastMessageAt">When that was posted.</param>
/// <param name="LastAuthor">Who posted it.</param>
/// <param name="Preview">Its first 100 characters; null when deleted or none.</param>
/// <param name="Unread">The member's unread count (at most 9,999).</param>
/// <param name="MoreUnread">More than <paramref name="Unread"/> are unread.</param>
/// <param name="Mentions">Unread messages that mention the member.</param>
[GenerateSerializer, Immutable, Alias("gw.inbox-entry")]
public sealed record InboxEntry(
    [property: Id(0)] string Channel,
    [property: Id(1)] string Name,
    [property: Id(2)] bool Direct,
    [property: Id(3)] long LastMessage,
    [property: Id(4)] DateTimeOffset? LastMessageAt,
    [property: Id(5)] string? LastAuthor,
    [property: Id(6)] string? Preview,
    [property: Id(7)] int Unread,
    [property: Id(8)] bool MoreUnread,
    [property: Id(9)] int Mentions);

/// <summary>A window of an inbox; <paramref name="Total"/> is how many channels it holds.</summary>
[GenerateSerializer, Immutable, Alias("gw.inbox-page")]
public sealed record InboxPage(
    [property: Id(0)] IReadOnlyList<InboxEntry> Entries,
    [property: Id(1)] int Total);

/// <summary>Inbox keys.</summary>
public static class InboxKeys
{
    /// <summary>
    /// The key of <paramref name="principal"/>'s inbox in <paramref name="tenant"/> (the id is hashed: principal ids
    /// may hold characters a key's name may not).
    /// </summary>
    public static ResourceKey For(string tenant, string principal) =>
        ResourceKey.Create(tenant, "inbox", NameOf(principal));

    /// <summary>The name part of <paramref name="principal"/>'s inbox key.</summary>
    public static string NameOf(string principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(principal)).AsSpan(0, 16));
    }
}

/// <summary>Getting inbox grains.</summary>
public static class InboxGrainFactoryExtensions
{
    /// <summary>The inbox of <paramref name="principal"/> in <paramref name="tenant"/>.</summary>
    public static IInboxGrain GetInbox(this IGrainFactory factory, string tenant, string principal) =>
        factory.GetResource<IInboxGrain>(InboxKeys.For(tenant, principal));
}

using System.ComponentModel.DataAnnotations;
using Groundwork.Grains.Resources;

namespace Groundwork.Grains.Chat;

/// <summary>
/// Limits of the Chat building block (configuration section <c>Groundwork:Chat</c>), beside the kit's
/// (<see cref="ResourceOptions"/>, whose defaults Chat changes: operation ids are remembered for 24 hours, the feed keeps
/// 10,000 changes for at most 7 days, and a tenant holds at most 10,000 channels, direct conversations not counted). Going past one raises <see cref="LimitExceededException"/> naming it, e.g.
/// <c>Chat:MaxTextLength</c>.
/// </summary>
[BlockOptions("chat")]
public sealed class ChatOptions : ResourceOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Groundwork:Chat";

    /// <summary>Chat's defaults for the kit's limits.</summary>
    public ChatOptions()
    {
        FeedRetention = 10_000;
        FeedRetentionAge = TimeSpan.FromDays(7);
        MaxPerTenant = 10_000;
        IdempotencyWindow = TimeSpan.FromHours(24);
        IdempotencyMaxEntries = 100_000;
    }

    /// <summary>Characters in a message's text. Default 4,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxTextLength { get; set; } = 4_000;

    /// <summary>Bytes (UTF-8) in a message's payload. Default 65,536.</summary>
    [Range(0, int.MaxValue)]
    public int MaxPayloadBytes { get; set; } = 65_536;

    /// <summary>Members mentioned by one message. Default 50.</summary>
    [Range(0, int.MaxValue)]
    public int MaxMentions { get; set; } = 50;

    /// <summary>Attachment references on one message. Default 10.</summary>
    [Range(0, int.MaxValue)]
    public int MaxAttachments { get; set; } = 10;

    /// <summary>Bytes (UTF-8) in a reaction key. Default 64.</summary>
    [Range(1, int.MaxValue)]
    public int MaxReactionKeyBytes { get; set; } = 64;

    /// <summary>Distinct reaction keys on one message. Default 20.</summary>
    [Range(1, int.MaxValue)]
    public int MaxReactionKeys { get; set; } = 20;

    /// <summary>Pinned messages per channel. Default 250.</summary>
    [Range(0, int.MaxValue)]
    public int MaxPins { get; set; } = 250;

    /// <summary>Members per channel. Default 10,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxMembers { get; set; } = 10_000;

    /// <summary>Principals one invitation adds. Default 100.</summary>
    [Range(1, int.MaxValue)]
    public int MaxInvites { get; set; } = 100;

    /// <summary>Members of a direct conversation, the caller included. Default 9.</summary>
    [Range(2, int.MaxValue)]
    public int MaxDirectMembers { get; set; } = 9;

    /// <summary>Edits of one message (each version is kept). Default 100.</summary>
    [Range(0, int.MaxValue)]
    public int MaxEdits { get; set; } = 100;

    /// <summary>Characters in a channel's name. Default 80.</summary>
    [Range(1, int.MaxValue)]
    public int MaxNameLength { get; set; } = 80;

    /// <summary>Characters in a channel's topic. Default 250.</summary>
    [Range(0, int.MaxValue)]
    public int MaxTopicLength { get; set; } = 250;

    /// <summary>
    /// Messages and replies in one stored page at most (a page also closes at about 32 KB). A post rewrites its page,
    /// so smaller pages write less per post and load more pages per history read. Default 64.
    /// </summary>
    [Range(1, 10_000)]
    public int MessagesPerPage { get; set; } = 64;

    /// <summary>
    /// Closed pages one index chunk summarizes; fixed for a channel when it is made (later changes apply to new
    /// channels). Default 256.
    /// </summary>
    [Range(2, 100_000)]
    public int PagesPerIndexChunk { get; set; } = 256;

    /// <summary>
    /// Posts, edits, reactions and pins one member may make in a channel at once before the steady rate applies
    /// (<see cref="PostRate"/>); past it, <see cref="RateLimitedException"/> with the time to wait. Default 10.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int PostBurst { get; set; } = 10;

    /// <summary>The steady rate of those, per member and channel, per second. Default 1.</summary>
    [Range(0.001, double.MaxValue)]
    public double PostRate { get; set; } = 1;

    /// <summary>The longest slow mode a moderator may set. Default 6 hours.</summary>
    public TimeSpan MaxSlowMode { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Channels one member's inbox holds (each read asks every one of them). Default 1,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxInboxChannels { get; set; } = 1_000;

    /// <summary>How long a typing signal shows after the last one. Default 10 seconds.</summary>
    public TimeSpan TypingTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Members past which a channel shows no typing indicators. Default 100.</summary>
    [Range(0, int.MaxValue)]
    public int MaxTypingMembers { get; set; } = 100;

    /// <summary>How often a client connection says it is alive. Default 30 seconds.</summary>
    public TimeSpan PresenceHeartbeat { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A connection silent this long is gone (3 heartbeats and a margin). Default 100 seconds.</summary>
    public TimeSpan PresenceTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>A member idle this long is away. Default 5 minutes.</summary>
    public TimeSpan AwayAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Live connections of one member. Default 20.</summary>
    [Range(1, int.MaxValue)]
    public int MaxConnectionsPerMember { get; set; } = 20;

    /// <summary>Messages in a history page when the query names no limit. Default 50.</summary>
    [Range(1, int.MaxValue)]
    public int DefaultPageSize { get; set; } = 50;

    /// <summary>Messages in a history page at most. Default 200.</summary>
    [Range(1, int.MaxValue)]
    public int MaxPageSize { get; set; } = 200;
}

using System.Globalization;
using System.Text;
using Groundwork.Access;
using Groundwork.Chat;
using Groundwork.Grains.Access;
using Groundwork.Grains.Resources;
using Groundwork.Tenants;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Groundwork.Grains.Chat;

/// <summary>
/// A chat channel: chat logic only, on the kit (<see cref="IResource{THead, TChange}"/>), which runs every mutation
/// (idempotency, one durable commit, the feed). What a post writes does not grow with the history: the head, the
/// open message page and the author's member bucket. Closed pages are summarized in index chunks (first and last
/// sequence, messages and live messages), so history skips and unread counts add up pages without loading them;
/// pages load on demand. Access goes by membership (<see cref="Allows"/>), not by the kit's access list.
/// </summary>
public sealed partial class ChannelGrain(
    [Resource] IResource<ChannelHead, ChannelChange> channel,
    IOptions<ChatOptions> options,
    TimeProvider time,
    ILogger<ChannelGrain> logger) : Grain, IChannelGrain
{
    /// <summary>About how many bytes a page holds before the next message opens a new one.</summary>
    internal const int PageBytes = 32 * 1024;

    /// <summary>Reply sequences in one thread chunk.</summary>
    internal const int ThreadSpan = 256;

    /// <summary>Member buckets (members are spread over them by a hash of their id).</summary>
    internal const int MemberBuckets = 64;

    /// <summary>The newest <c>@channel</c> mentions kept for mention counts.</summary>
    internal const int ChannelMentionsKept = 100;

    /// <summary>Participants a thread's summary names.</summary>
    internal const int ParticipantsKept = 100;

    /// <summary>Characters of the last message an inbox shows.</summary>
    internal const int PreviewLength = 100;

    /// <summary>Unread counts are exact up to this.</summary>
    internal const int UnreadCap = 9_999;

    private readonly ChatOptions _limits = options.Value;
    private readonly Dictionary<string, MemberState> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<int, MemberBucket> _buckets = [];
    // Each member's token bucket for posts, edits, reactions and pins (in memory: a new activation starts full).
    private Dictionary<string, (double Tokens, DateTimeOffset At)>? _rates;
    private ChunkSet<MessageChunk> _pages = null!;
    private ChunkSet<IndexChunk> _index = null!;
    private ChunkSet<ThreadChunk> _threads = null!;
    private ChunkSet<VersionChunk> _versions = null!;
    private ChunkSet<MemberBucket> _memberChunks = null!;
    // The open page (the last), always in memory, and the index chunk its summary will go to when it closes.
    private MessageChunk? _open;
    private IndexChunk? _lastIndex;
    private int _lastIndexNumber = -1;
    private bool _deliveringInbox;
    // Who is typing, until when (live only: never stored).
    private Dictionary<string, (long? Thread, DateTimeOffset Until)>? _typing;

    private ChannelHead State => channel.State;

    // Closed pages summarized by one index chunk: fixed for a channel when it is made.
    private int IndexSpan => State.IndexSpan;

    /// <inheritdoc/>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _pages = channel.Chunks<MessageChunk>("msgs");
        _index = channel.Chunks<IndexChunk>("index");
        _threads = channel.Chunks<ThreadChunk>("threads");
        _versions = channel.Chunks<VersionChunk>("versions");
        _memberChunks = channel.Chunks<MemberBucket>("members");
        channel.UseAccessRule(Allows);
        if (!State.Created)
        {
            return;
        }

        foreach (var (id, bucket) in await _memberChunks.LoadAllAsync())
        {
            _buckets[int.Parse(id.AsSpan(1), CultureInfo.InvariantCulture)] = bucket;
            foreach (var (principal, member) in bucket.Members)
            {
                _members[principal] = member;
            }
        }

        if (State.Pages > 0)
        {
            _open = await _pages.GetAsync(PageId(State.Pages - 1)) ?? new MessageChunk();
            await EnsureIndexForCloseAsync();
        }

        DeliverInbox();
    }

    // ---- Channel and members ----

    /// <inheritdoc/>
    public Task<MutationResult> CreateAsync(NewChannel settings, MutationOptions? options = null) =>
        Membership(channel.CreateAsync(options, () =>
        {
            InvalidRequestException.ThrowIfNull(settings, "channel");
            if (channel.Key.Name.StartsWith(ChannelKeys.DirectPrefix, StringComparison.Ordinal))
            {
                throw new InvalidRequestException("key", $"names starting with '{ChannelKeys.DirectPrefix}' are for direct conversations: use OpenDirectAsync");
            }

            ValidateName(settings.Name);
            ValidateTopic(settings.Topic ?? "");
            State.Name = settings.Name;
            State.Topic = settings.Topic ?? "";
            State.Private = settings.Private;
            State.IndexSpan = _limits.PagesPerIndexChunk;
            channel.SetAccess([], [], tenantReadable: !settings.Private);
            var creator = CallerContext.Principal;
            AddMember(creator, ChannelRole.Owner);
            return new Applied<ChannelChange>(s => new ChannelChange(s.Sequence, ChannelChangeKind.Created, s.At, s.By,
                Principals: [creator], Name: State.Name, Topic: State.Topic));
        }));

    /// <inheritdoc/>
    public Task<MutationResult> OpenDirectAsync(IReadOnlyList<string> members, MutationOptions? options = null)
    {
        if (State.Created)
        {
            // Found again: the rule let the caller through, so it is one of the members.
            return channel.MutateAsync(options, () =>
            {
                if (!State.Direct)
                {
                    throw new InvalidRequestException("key", "this channel is not a direct conversation");
                }

                return Unchanged();
            });
        }

        return Membership(channel.CreateAsync(options, () =>
        {
            InvalidRequestException.ThrowIfNull(members, nameof(members));
            var caller = CallerContext.Principal;
            var all = members.Append(caller).Distinct(StringComparer.Ordinal).ToList();
            foreach (var member in all)
            {
                Principal.Validate(member, nameof(members));
            }

            if (all.Count < 2)
            {
                throw new InvalidRequestException(nameof(members), "a direct conversation needs at least one member besides the caller");
            }

            if (all.Count > _limits.MaxDirectMembers)
            {
                throw channel.Limit(nameof(ChatOptions.MaxDirectMembers), _limits.MaxDirectMembers, all.Count);
            }

            if (ChannelKeys.Direct(channel.Key.Tenant, all) != channel.Key)
            {
                throw new InvalidRequestException("key", "this is not the key of the direct conversation between these members: use ChannelKeys.Direct");
            }

            State.Direct = true;
            State.IndexSpan = _limits.PagesPerIndexChunk;
            State.Private = true;
            channel.SetAccess([], [], tenantReadable: false);
            foreach (var member in all)
            {
                AddMember(member, ChannelRole.Member);
            }

            return new Applied<ChannelChange>(s => new ChannelChange(s.Sequence, ChannelChangeKind.Created, s.At, s.By, Principals: all));
        }, listed: false));
    }

    /// <inheritdoc/>
    public Task<MutationResult> RenameAsync(string name, MutationOptions? options = null) =>
        channel.MutateAsync(options, () =>
        {
            NotDirect("renamed");
            ValidateName(name);
            State.Name = name;
            channel.Relist();
            return new Applied<ChannelChange>(s => new ChannelChange(s.Sequence, ChannelChangeKind.Renamed, s.At, s.By, Name: name));
        });

    /// <inheritdoc/>
    public Task<MutationResult> SetTopicAsync(string topic, MutationOptions? options = null) =>
        channel.MutateAsync(options, () =>
        {
            InvalidRequestException.ThrowIfNull(topic, nameof(topic));
            ValidateTopic(topic);
            State.Topic = topic;
            return new Applied<ChannelChange>(s => new ChannelChange(s.Sequence, ChannelChangeKind.TopicChanged, s.At, s.By, Topic: topic));
        });

    /// <inheritdoc/>
    public Task<MutationResult> SetSlowModeAsync(TimeSpan interval, MutationOptions? options = null) =>
        channel.MutateAsync(options, () =>
        {
            if (interval < TimeSpan.Zero)
            {
                throw new InvalidRequestException(nameof(interval), "must not be negative");
            }

            if (interval > _limits.MaxSlowMode)
            {
                throw channel.Limit(nameof(ChatOptions.MaxSlowMode), (long)_limits.MaxSlowMode.TotalSeconds, (long)Math.Ceiling(interval.TotalSeconds));
            }

            if (interval == State.SlowMode)
            {
                return Unchanged();
            }

            State.SlowMode = interval;
            return new Applied<ChannelChange>(s => new ChannelChange(s.Sequence, ChannelChangeKind.SlowModeChanged, s.At, s.By, SlowMode: interval));
        });

    /// <inheritdoc/>
    public Task<MutationResult> JoinAsync(MutationOptions? options = null) =>
        Membership(channel.MutateAsync(options, () =>
        {
            var caller = CallerContext.Principal;
            if (_members.ContainsKey(caller))
            {
                return Unchanged();
            }

            if (State.Private)
            {
                // Tenant admins read private channels but join them only by invitation, like everyone.
                throw new AccessDeniedException(AccessDenialReason.NotOnAccessList, "a private channel is joined by invitation");
            }

            CheckRoom(1);
            AddMember(caller, ChannelRole.Member);
            return new Applied<ChannelChange>(s => new ChannelChange(s.Sequence, ChannelChangeKind.MembersAdded, s.At, s.By, Principals: [caller]));
        }));

    /// <inheritdoc/>
    public Task<MutationResult> LeaveAsync(MutationOptions? options = null) =>
        Membership(channel.MutateAsync(options, () =>
        {
            var caller = CallerContext.Principal;
            MemberOf(caller);
            RemoveMember(caller);
            return new Applied<ChannelChange>(s => new ChannelChange(s.Sequence, ChannelChangeKind.MemberRemoved, s.At, s.By, Principals: [caller]));
        }));

    /// <inheritdoc/>
    public Task<MutationResult> InviteAsync(IReadOnlyList<string> principals, MutationOptions? options = null) =>
        Membership(channel.MutateAsync(options, () =>
        {
            InvalidRequestException.ThrowIfNull(principals, nameof(principals));
            NotDirect("joined by invitation: its members are fixed");
            if (principals.Count > _limits.MaxInvites)
            {
                throw channel.Limit(nameof(ChatOptions.MaxInvites), _limits.MaxInvites, principals.Count);
            }

            foreach (var principal in principals)
            {
                Principal.Validate(principal, nameof(principals));
            }

            var added = principals.Distinct(StringComparer.Ordinal).Where(p => !_members.ContainsKey(p)).ToList();
            if (added.Count == 0)
            {
                return Unchanged();
            }

            CheckRoom(added.Count);
            foreach (var principal in added)
            {
                AddMember(principal, ChannelRole.Member);
            }

            return new Applied<ChannelChange>(s => new ChannelChange(s.Sequence, ChannelChangeKind.MembersAdded, s.At, s.By, Principals: added), Count: added.Count);
        }));

    /// <inheritdoc/>
    public Task<MutationResult> RemoveMemberAsync(string principal, MutationOptions? options = null) =>
        Membership(channel.MutateAsync(options, () =>
        {
            var target = MemberOf(principal);
            if (target.Role == ChannelRole.Owner && !IsPrivileged() && CallerRole() != ChannelRole.Owner)
            {
                throw new AccessDeniedException(AccessDenialReason.NotOnAccessList, "only an owner removes an owner");
            }

            RemoveMember(principal);
            return new Applied<ChannelChange>(s => new ChannelChange(s.Sequence, ChannelChangeKind.MemberRemoved, s.At, s.By, Principals: [principal]));
        }));

    /// <inheritdoc/>
    public Task<MutationResult> SetRoleAsync(string principal, ChannelRole role, MutationOptions? options = null) =>
        channel.MutateAsync(options, () =>
        {
            if (!Enum.IsDefined(role))
            {
                throw new InvalidRequestException(nameof(role), $"unknown role {(int)role}");
            }

            NotDirect("given roles");
            if (!IsPrivileged() && CallerRole() != ChannelRole.Owner)
            {
                throw new AccessDeniedException(AccessDenialReason.NotOnAccessList, "only a channel owner changes roles");
            }

            var target = MemberOf(principal);
            if (target.Role == role)
            {
                return Unchanged();
            }

            if (target.Role == ChannelRole.Owner && _members.Values.Count(m => m.Role == ChannelRole.Owner) == 1)
            {
                throw new InvalidRequestException(nameof(role), "a channel keeps at least one owner: make another member owner first");
            }

            target.Role = role;
            TouchMember(principal);
            return new Applied<ChannelChange>(s => new ChannelChange(s.Sequence, ChannelChangeKind.RoleChanged, s.At, s.By, Principals: [principal], Role: role));
        });

    // ---- Messages ----

    /// <inheritdoc/>
    public async Task<MutationResult> PostAsync(NewMessage message, MutationOptions? options = null)
    {
        // What a reply changes besides the open page is loaded first: the apply below does not wait.
        Located? root = null;
        ThreadChunk? thread = null;
        if (message?.ReplyTo is { } replyTo && State.Created)
        {
            root = await LocateAsync(replyTo);
            if (root is { Message.Root: { } rootOfReply })
            {
                root = await LocateAsync(rootOfReply);
            }

            if (root is { } r)
            {
                thread = await _threads.GetAsync(ThreadId(r.Message.Seq, r.Message.ThreadTotal / ThreadSpan)) ?? new ThreadChunk();
            }
        }

        await EnsureIndexForCloseAsync();
        return await channel.MutateAsync(options, () =>
        {
            InvalidRequestException.ThrowIfNull(message, nameof(message));
            ValidateContent(message.Text, message.Payload, message.Attachments);
            var mentions = ValidateMentions(message.Mentions);
            if (message.MentionChannel && !IsPrivileged() && CallerRole() < ChannelRole.Moderator)
            {
                throw new AccessDeniedException(AccessDenialReason.NotOnAccessList, "@channel is for moderators");
            }

            if (message.ReplyTo is not null && root is null)
            {
                throw new NotFoundException("message", message.ReplyTo.Value.ToString(CultureInfo.InvariantCulture));
            }

            var author = CallerContext.Principal;
            var now = time.GetUtcNow();
            Throttle(now, post: true);
            var seq = State.Version + 1;
            var stored = new StoredMessage(seq, author, now, message.Text, message.Payload, mentions.Count > 0 ? mentions : null,
                message.MentionChannel, message.Attachments is { Count: > 0 } a ? [.. a] : null, root?.Message.Seq);
            Append(stored);
            State.Posted++;
            if (root is { } r)
            {
                var participants = r.Message.Participants ?? [];
                var updated = r.Message with
                {
                    ThreadTotal = r.Message.ThreadTotal + 1,
                    Replies = r.Message.Replies + 1,
                    LastReplyAt = now,
                    Participants = participants.Contains(author) || participants.Count >= ParticipantsKept ? participants : [.. participants, author],
                };
                Replace(r, updated);
                thread!.Replies.Add(seq);
                _threads.Put(ThreadId(r.Message.Seq, r.Message.ThreadTotal / ThreadSpan), thread);
            }
            else
            {
                State.LastMessage = seq;
                State.LastMessageAt = now;
                State.LastAuthor = author;
                State.LastPreview = message.Text.Length > PreviewLength ? message.Text[..PreviewLength] : message.Text;
                if (_members.TryGetValue(author, out var me))
                {
                    MoveMarker(author, me, seq);
                }
            }

            if (_members.TryGetValue(author, out var poster))
            {
                poster.LastPostAt = now;
                TouchMember(author);
            }

            // A post ends its author's typing.
            if (_typing?.Remove(author) == true)
            {
                channel.LiveChanged();
            }

            foreach (var mentioned in mentions)
            {
                if (_members.TryGetValue(mentioned, out var member))
                {
                    (member.Mentions ??= []).Add(seq);
                    TouchMember(mentioned);
                }
            }

            if (message.MentionChannel)
            {
                State.ChannelMentions.Add(new ChannelMention(seq, author));
                if (State.ChannelMentions.Count > ChannelMentionsKept)
                {
                    State.ChannelMentions.RemoveAt(0);
                }
            }

            var posted = ToMessage(stored, reader: null);
            return new Applied<ChannelChange>(s => new ChannelChange(s.Sequence, ChannelChangeKind.Posted, s.At, s.By, posted), seq.ToString(CultureInfo.InvariantCulture));
        });
    }

    /// <inheritdoc/>
    public async Task<MutationResult> EditAsync(long message, string text, MutationOptions? options = null)
    {
        var at = await LocateAsync(message);
        var versions = at is null ? null : await _versions.GetAsync(VersionId(message)) ?? new VersionChunk();
        return await channel.MutateAsync(options, () =>
        {
            var found = Found(at, message);
            if (found.Message.Author != CallerContext.Principal)
            {
                throw new AccessDeniedException(AccessDenialReason.NotOnAccessList, "only its author edits a message");
            }

            if (found.Message.IsDeleted)
            {
                throw new InvalidRequestException(nameof(message), "the message is deleted");
            }

            InvalidRequestException.ThrowIfNull(text, nameof(text));
            ValidateContent(text, found.Message.Payload, found.Message.Attachments);
            if (found.Message.Edits >= _limits.MaxEdits)
            {
                throw channel.Limit(nameof(ChatOptions.MaxEdits), _limits.MaxEdits, found.Message.Edits + 1);
            }

            var now = time.GetUtcNow();
            Throttle(now, post: false);
            versions!.Versions.Add(new MessageVersion(found.Message.Edits, found.Message.Text, found.Message.EditedAt ?? found.Message.At));
            _versions.Put(VersionId(message), versions);
            var updated = found.Message with { Text = text, Edits = found.Message.Edits + 1, EditedAt = now };
            Replace(found, updated);
            var edited = ToMessage(updated, reader: null);
            return new Applied<ChannelChange>(s => new ChannelChange(s.Sequence, ChannelChangeKind.Edited, s.At, s.By, edited), Id(message));
        });
    }

    /// <inheritdoc/>
    public async Task<MutationResult> DeleteAsync(long message, MutationOptions? options = null)
    {
        var at = await LocateAsync(message);
        Located? root = at is { Message.Root: { } r } ? await LocateAsync(r) : null;
        return await channel.MutateAsync(options, () =>
        {
            var found = Found(at, message);
            var caller = CallerContext.Principal;
            if (found.Message.Author != caller && !IsPrivileged() && CallerRole() < ChannelRole.Moderator)
            {
                throw new AccessDeniedException(AccessDenialReason.NotOnAccessList, "a member deletes only their own messages; moderators delete any");
            }

            if (found.Message.IsDeleted)
            {
                return Unchanged(Id(message));
            }

            var old = found.Message;
            var tombstone = new StoredMessage(old.Seq, old.Author, old.At, "", Root: old.Root, ThreadTotal: old.ThreadTotal, Replies: old.Replies,
                LastReplyAt: old.LastReplyAt, Participants: old.Participants, DeletedBy: caller, DeletedAt: time.GetUtcNow());
            Replace(found, tombstone);
            if (old.Edits > 0)
            {
                _versions.Remove(VersionId(message));
            }

            if (old.Pinned)
            {
                State.Pins.Remove(message);
            }

            foreach (var mentioned in old.Mentions ?? [])
            {
                if (_members.TryGetValue(mentioned, out var member) && member.Mentions?.Remove(message) == true)
                {
                    TouchMember(mentioned);
                }
            }

            State.ChannelMentions.RemoveAll(m => m.Sequence == message);
            if (message == State.LastMessage)
            {
                State.LastPreview = null;
            }
            if (root is { } r)
            {
                Replace(r, r.Message with { Replies = r.Message.Replies - 1 });
            }
            else if (old.Root is null)
            {
                CountLive(found, -1);
            }

            var deleted = ToMessage(tombstone, reader: null);
            return new Applied<ChannelChange>(s => new ChannelChange(s.Sequence, ChannelChangeKind.Deleted, s.At, s.By, deleted), Id(message));
        });
    }

    /// <inheritdoc/>
    public async Task<MutationResult> ReactAsync(long message, string key, bool on = true, MutationOptions? options = null)
    {
        var at = await LocateAsync(message);
        return await channel.MutateAsync(options, () =>
        {
            ValidateReactionKey(key);
            var found = Live(at, message);
            var caller = CallerContext.Principal;
            var reactions = found.Message.Reactions ?? [];
            var existing = reactions.FirstOrDefault(r => r.Key == key);
            IReadOnlyList<StoredReaction> updated;
            if (on)
            {
                if (existing?.By.Contains(caller) == true)
                {
                    return Unchanged(Id(message));
                }

                if (existing is null && reactions.Count >= _limits.MaxReactionKeys)
                {
                    throw channel.Limit(nameof(ChatOptions.MaxReactionKeys), _limits.MaxReactionKeys, reactions.Count + 1);
                }

                updated = existing is null
                    ? [.. reactions, new StoredReaction(key, [caller])]
                    : [.. reactions.Select(r => r == existing ? r with { By = [.. r.By, caller] } : r)];
            }
            else
            {
                if (existing?.By.Contains(caller) != true)
                {
                    return Unchanged(Id(message));
                }

                updated = [.. reactions.Select(r => r == existing ? r with { By = [.. r.By.Where(b => b != caller)] } : r).Where(r => r.By.Count > 0)];
            }

            Throttle(time.GetUtcNow(), post: false);
            Replace(found, found.Message with { Reactions = updated.Count > 0 ? updated : null });
            var kind = on ? ChannelChangeKind.ReactionAdded : ChannelChangeKind.ReactionRemoved;
            return new Applied<ChannelChange>(s => new ChannelChange(s.Sequence, kind, s.At, s.By, Target: message, Key: key), Id(message));
        });
    }

    /// <inheritdoc/>
    public async Task<MutationResult> PinAsync(long message, bool pinned = true, MutationOptions? options = null)
    {
        var at = await LocateAsync(message);
        return await channel.MutateAsync(options, () =>
        {
            var found = pinned ? Live(at, message) : Found(at, message);
            if (found.Message.Pinned == pinned)
            {
                return Unchanged(Id(message));
            }

            if (pinned && State.Pins.Count >= _limits.MaxPins)
            {
                throw channel.Limit(nameof(ChatOptions.MaxPins), _limits.MaxPins, State.Pins.Count + 1);
            }

            Throttle(time.GetUtcNow(), post: false);
            if (pinned)
            {
                State.Pins.Add(message);
            }
            else
            {
                State.Pins.Remove(message);
            }

            Replace(found, found.Message with { Pinned = pinned });
            var kind = pinned ? ChannelChangeKind.Pinned : ChannelChangeKind.Unpinned;
            return new Applied<ChannelChange>(s => new ChannelChange(s.Sequence, kind, s.At, s.By, Target: message), Id(message));
        });
    }

    /// <inheritdoc/>
    public Task<MutationResult> MarkReadAsync(long sequence, MutationOptions? options = null) =>
        channel.MutateAsync(options, () =>
        {
            var caller = CallerContext.Principal;
            var member = _members.GetValueOrDefault(caller) ?? throw NotAMember();
            var upTo = Math.Min(sequence, State.Version);
            if (upTo <= member.Read)
            {
                return Unchanged();
            }

            MoveMarker(caller, member, upTo);
            return new Applied<ChannelChange>(null);
        });

    /// <inheritdoc/>
    public Task<bool> TypingAsync(long? thread = null, bool typing = true)
    {
        channel.EnsureCreated();
        var caller = CallerContext.Principal;
        if (!_members.ContainsKey(caller))
        {
            throw NotAMember();
        }

        if (State.MemberCount > _limits.MaxTypingMembers)
        {
            return Task.FromResult(false);
        }

        _typing ??= new(StringComparer.Ordinal);
        if (!typing)
        {
            if (_typing.Remove(caller))
            {
                channel.LiveChanged();
            }

            return Task.FromResult(true);
        }

        // Signals repeated while shown only extend it: watchers hear of a member starting, moving or stopping.
        var now = time.GetUtcNow();
        var shown = _typing.TryGetValue(caller, out var was) && was.Until > now && was.Thread == thread;
        _typing[caller] = (thread, now + _limits.TypingTimeout);
        if (!shown)
        {
            channel.LiveChanged();
        }

        return Task.FromResult(true);
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<ChannelLive> WatchLiveAsync(CancellationToken cancellationToken = default) =>
        channel.WatchLiveAsync(ReadLive, cancellationToken);

    /// <summary>Who is typing now (expired signals dropped), and when the next one expires.</summary>
    private (ChannelLive State, DateTimeOffset? ChangesAt) ReadLive()
    {
        if (_typing is not { Count: > 0 } typing)
        {
            return (new ChannelLive([]), null);
        }

        var now = time.GetUtcNow();
        foreach (var (principal, (_, until)) in typing.ToList())
        {
            if (until <= now)
            {
                typing.Remove(principal);
            }
        }

        var typists = typing.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new Typist(t.Key, t.Value.Thread)).ToList();
        return (new ChannelLive(typists), typing.Count > 0 ? typing.Values.Min(t => t.Until) : null);
    }

    // ---- Reads ----

    /// <inheritdoc/>
    public Task<ChannelInfo> GetAsync()
    {
        channel.EnsureCreated();
        var role = _members.TryGetValue(CallerContext.Principal, out var me) ? me.Role : (ChannelRole?)null;
        return Task.FromResult(new ChannelInfo(channel.Key.ToString(), State.Name, State.Topic, State.Private, State.Direct, State.Version,
            State.MemberCount, role, State.LastMessage, State.LastMessageAt, State.Posted, State.SlowMode));
    }

    /// <inheritdoc/>
    public async Task<MessagePage> GetHistoryAsync(HistoryQuery? query = null)
    {
        channel.EnsureCreated();
        query ??= new HistoryQuery();
        var limit = PageLimit(query);
        var reader = CallerContext.Principal;
        var anchor = query.Anchor;
        if (anchor is HistoryAnchor.Before or HistoryAnchor.After or HistoryAnchor.Around)
        {
            RequireSequence(query);
        }

        var from = query.Sequence ?? 0;
        if (anchor == HistoryAnchor.FirstUnread)
        {
            if (_members.TryGetValue(reader, out var member) && (await TakeAsync(member.Read, forward: true, 1)).Items.Count > 0)
            {
                (anchor, from) = (HistoryAnchor.After, member.Read);
            }
            else
            {
                anchor = HistoryAnchor.Newest;
            }
        }

        List<StoredMessage> older = [], newer = [];
        bool reachedOldest, reachedNewest;
        switch (anchor)
        {
            case HistoryAnchor.Newest:
                (older, reachedOldest) = await TakeAsync(long.MaxValue, forward: false, limit);
                reachedNewest = true;
                break;
            case HistoryAnchor.Oldest:
                (newer, reachedNewest) = await TakeAsync(0, forward: true, limit);
                reachedOldest = true;
                break;
            case HistoryAnchor.Before:
                (older, reachedOldest) = await TakeAsync(from, forward: false, limit);
                reachedNewest = (await TakeAsync(from - 1, forward: true, 1)).Items.Count == 0;
                break;
            case HistoryAnchor.After:
                (newer, reachedNewest) = await TakeAsync(from, forward: true, limit);
                reachedOldest = (await TakeAsync(from + 1, forward: false, 1)).Items.Count == 0;
                break;
            case HistoryAnchor.Around:
                (older, reachedOldest) = await TakeAsync(from, forward: false, limit / 2);
                (newer, reachedNewest) = await TakeAsync(from - 1, forward: true, limit - older.Count);
                break;
            default:
                throw new InvalidRequestException(nameof(query.Anchor), $"unknown anchor {(int)query.Anchor}");
        }

        older.Reverse();
        return new MessagePage([.. older.Concat(newer).Select(m => ToMessage(m, reader))], reachedOldest, reachedNewest, State.Version);
    }

    /// <inheritdoc/>
    public async Task<MessagePage> GetThreadAsync(long root, HistoryQuery? query = null)
    {
        channel.EnsureCreated();
        query ??= new HistoryQuery();
        var limit = PageLimit(query);
        var at = await LocateAsync(root);
        var top = at is { Message.Root: null } ? at.Value.Message : throw new NotFoundException("thread", root.ToString(CultureInfo.InvariantCulture));
        var total = top.ThreadTotal;
        // Positions in the thread: [start, end) of the page.
        int start, end;
        switch (query.Anchor)
        {
            case HistoryAnchor.Newest or HistoryAnchor.FirstUnread:
                (start, end) = (Math.Max(0, total - limit), total);
                break;
            case HistoryAnchor.Oldest:
                (start, end) = (0, Math.Min(total, limit));
                break;
            case HistoryAnchor.Before:
                RequireSequence(query);
                end = await ThreadPositionAsync(root, total, query.Sequence!.Value);
                start = Math.Max(0, end - limit);
                break;
            case HistoryAnchor.After:
                RequireSequence(query);
                start = await ThreadPositionAsync(root, total, query.Sequence!.Value + 1);
                end = Math.Min(total, start + limit);
                break;
            case HistoryAnchor.Around:
                RequireSequence(query);
                var middle = await ThreadPositionAsync(root, total, query.Sequence!.Value);
                start = Math.Max(0, middle - (limit / 2));
                end = Math.Min(total, start + limit);
                break;
            default:
                throw new InvalidRequestException(nameof(query.Anchor), $"unknown anchor {(int)query.Anchor}");
        }

        var messages = new List<ChatMessage>(Math.Max(0, end - start));
        for (var position = start; position < end; position++)
        {
            if (await LocateAsync(await ThreadSequenceAsync(root, position)) is { } reply)
            {
                messages.Add(ToMessage(reply.Message, CallerContext.Principal));
            }
        }

        return new MessagePage(messages, start == 0, end == total, State.Version);
    }

    /// <inheritdoc/>
    public async Task<ChatMessage> GetMessageAsync(long message)
    {
        channel.EnsureCreated();
        return ToMessage(Found(await LocateAsync(message), message).Message, CallerContext.Principal);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<MessageVersion>> GetVersionsAsync(long message)
    {
        channel.EnsureCreated();
        var found = Found(await LocateAsync(message), message).Message;
        if (found.IsDeleted)
        {
            return [];
        }

        var earlier = found.Edits > 0 ? (await _versions.GetAsync(VersionId(message)))?.Versions ?? [] : [];
        return [.. earlier, new MessageVersion(found.Edits, found.Text, found.EditedAt ?? found.At)];
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ChatMessage>> GetPinnedAsync()
    {
        channel.EnsureCreated();
        var pinned = new List<ChatMessage>(State.Pins.Count);
        foreach (var seq in State.Pins.ToList())
        {
            if (await LocateAsync(seq) is { } at)
            {
                pinned.Add(ToMessage(at.Message, CallerContext.Principal));
            }
        }

        return pinned;
    }

    /// <inheritdoc/>
    public Task<MemberPage> GetMembersAsync(string? after = null, int limit = 100)
    {
        channel.EnsureCreated();
        if (limit is < 1 or > 1_000)
        {
            throw new InvalidRequestException(nameof(limit), "must be 1-1000");
        }

        var page = _members.Where(m => after is null || string.CompareOrdinal(m.Key, after) > 0)
            .OrderBy(m => m.Key, StringComparer.Ordinal)
            .Take(limit + 1)
            .Select(m => new ChannelMember(m.Key, m.Value.Role, m.Value.JoinedAt))
            .ToList();
        var next = page.Count > limit ? page[limit - 1].Principal : null;
        return Task.FromResult(new MemberPage(page.Take(limit).ToList(), next));
    }

    /// <inheritdoc/>
    public async Task<UnreadState> GetUnreadAsync()
    {
        channel.EnsureCreated();
        var caller = CallerContext.Principal;
        var member = _members.GetValueOrDefault(caller) ?? throw NotAMember();
        var (unread, more) = await UnreadAsync(member.Read);
        var mentions = (member.Mentions ?? []).Count(s => s > member.Read) +
                       State.ChannelMentions.Count(m => m.Sequence > member.Read && m.By != caller);
        return new UnreadState(member.Read, unread, more, mentions);
    }

    /// <inheritdoc/>
    public async Task<InboxEntry?> GetInboxEntryAsync()
    {
        channel.EnsureCreated();
        if (!_members.TryGetValue(CallerContext.Principal, out var member))
        {
            return null;
        }

        var unread = await GetUnreadAsync();
        return new InboxEntry(channel.Key.ToString(), State.Name, State.Direct, State.LastMessage, State.LastMessageAt, State.LastAuthor,
            State.LastPreview, unread.Unread, unread.MoreUnread, unread.Mentions);
    }

    /// <inheritdoc/>
    public Task<ResourceSummary> GetSummaryAsync() => Task.FromResult(channel.Summary(State.Name));

    /// <inheritdoc/>
    public IAsyncEnumerable<ChannelChange> WatchAsync(long afterSequence, CancellationToken cancellationToken = default) =>
        channel.WatchAsync(afterSequence, cancellationToken);

    // ---- Access ----

    /// <summary>
    /// The channel's rule (for members of its tenant below admin): a public channel is read by everyone in the
    /// tenant, a private one by its members; members with the tenant role Member write; moderators administer.
    /// </summary>
    private AccessDeniedException? Allows(Caller caller, Requirement requirement)
    {
        var member = _members.GetValueOrDefault(caller.Principal);
        var allowed = requirement switch
        {
            Requirement.Read => member is not null || (!State.Private && caller.Role >= TenantRole.Viewer),
            Requirement.Write => member is not null && caller.Role >= TenantRole.Member,
            Requirement.Admin => member is { Role: >= ChannelRole.Moderator } && caller.Role >= TenantRole.Member,
            _ => false,
        };
        if (allowed)
        {
            return null;
        }

        var why = requirement switch
        {
            Requirement.Read => "the channel is private and they are not a member",
            Requirement.Write when member is null => "they are not a member",
            Requirement.Write => $"posting needs the tenant role Member; they have {caller.Role?.ToString() ?? "none"}",
            _ => "it needs a channel moderator",
        };
        return new AccessDeniedException(AccessDenialReason.NotOnAccessList, $"'{caller.Principal}' may not {requirement.ToString().ToLowerInvariant()} this channel: {why}");
    }

    /// <summary>
    /// Tenant admins and owners (and silo code) may do everything a channel owner may: what the shared policy lets
    /// administer the tenant itself (an edge key only as far as its holder may).
    /// </summary>
    private bool IsPrivileged() =>
        CallerContext.Current is not { } caller || AccessPolicy.Check(caller, Requirement.Admin, channel.Key.Tenant, access: null) is null;

    private ChannelRole? CallerRole() => _members.TryGetValue(CallerContext.Principal, out var me) ? me.Role : null;

    private static AccessDeniedException NotAMember() =>
        new(AccessDenialReason.NotOnAccessList, $"'{CallerContext.Principal}' is not a member of this channel");

    /// <summary>
    /// Refuses a member going faster than slow mode (posts; moderators aside) or their token bucket allows (posts,
    /// edits, reactions, pins), with the time to wait; otherwise takes a token. Called last before a change.
    /// </summary>
    private void Throttle(DateTimeOffset now, bool post)
    {
        if (CallerContext.Current is null)
        {
            return;
        }

        var caller = CallerContext.Principal;
        if (post && State.SlowMode > TimeSpan.Zero && !IsPrivileged() && CallerRole() < ChannelRole.Moderator &&
            _members.GetValueOrDefault(caller)?.LastPostAt is { } last && now - last < State.SlowMode)
        {
            throw new RateLimitedException("Chat:SlowMode", State.SlowMode - (now - last));
        }

        _rates ??= new(StringComparer.Ordinal);
        var (tokens, at) = _rates.TryGetValue(caller, out var bucket) ? bucket : (_limits.PostBurst, now);
        tokens = Math.Min(_limits.PostBurst, tokens + (Math.Max(0, (now - at).TotalSeconds) * _limits.PostRate));
        if (tokens < 1)
        {
            throw new RateLimitedException($"Chat:{nameof(ChatOptions.PostRate)}", TimeSpan.FromSeconds((1 - tokens) / _limits.PostRate));
        }

        if (_rates.Count > 1_000)
        {
            // Forget the members whose buckets have refilled: they would start full anyway.
            foreach (var (member, (t, a)) in _rates.ToList())
            {
                if (t + ((now - a).TotalSeconds * _limits.PostRate) >= _limits.PostBurst)
                {
                    _rates.Remove(member);
                }
            }
        }

        _rates[caller] = (tokens - 1, now);
    }

    // ---- Members ----

    /// <summary>A membership change: once it is committed, the members' inboxes hear of it.</summary>
    private async Task<MutationResult> Membership(Task<MutationResult> mutation)
    {
        var result = await mutation;
        DeliverInbox();
        return result;
    }

    private void DeliverInbox()
    {
        if (!_deliveringInbox && State.InboxPending.Count > 0)
        {
            _deliveringInbox = true;
            _ = DeliverInboxAsync();
        }
    }

    /// <summary>
    /// Records the pending joins and departures in the members' inboxes, oldest first, as the silo's own calls (the
    /// caller's key may not write another member's inbox). What is delivered leaves the pending list (the next commit
    /// stores that); what is not is tried again on the next membership change or activation. Deliveries repeat safely.
    /// </summary>
    private async Task DeliverInboxAsync()
    {
        RequestContext.Clear();
        var key = channel.Key;
        try
        {
            while (State.InboxPending.Count > 0)
            {
                var update = State.InboxPending[0];
                try
                {
                    await GrainFactory.GetInbox(key.Tenant, update.Principal).TrackAsync(key.ToString(), update.Member);
                }
                catch (GroundworkException refused) when (refused is not StorageUnavailableException)
                {
                    // Refused for good (an inbox full): trying again would hold back every later delivery.
                    LogInboxRefused(logger, key.ToString(), update.Principal, refused.Message);
                }

                State.InboxPending.Remove(update);
            }
        }
        catch (Exception exception)
        {
            LogInboxFailed(logger, exception, key.ToString());
        }
        finally
        {
            _deliveringInbox = false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Channel {Channel} could not record a membership change in {Principal}'s inbox: {Reason}")]
    private static partial void LogInboxRefused(ILogger logger, string channel, string principal, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Channel {Channel} could not reach an inbox; it tries again on the next membership change or activation")]
    private static partial void LogInboxFailed(ILogger logger, Exception exception, string channel);

    private MemberState MemberOf(string principal) =>
        principal is not null && _members.TryGetValue(principal, out var member) ? member : throw new NotFoundException("member", principal ?? "");

    private void CheckRoom(int adding)
    {
        if (State.MemberCount + adding > _limits.MaxMembers)
        {
            throw channel.Limit(nameof(ChatOptions.MaxMembers), _limits.MaxMembers, State.MemberCount + adding);
        }
    }

    private void AddMember(string principal, ChannelRole role)
    {
        State.InboxPending.Add(new InboxUpdate(principal, Member: true));
        // Joining marks what came before as read: only what is posted after counts as unread.
        var member = new MemberState { Role = role, JoinedAt = time.GetUtcNow(), Read = State.Version + 1 };
        _members[principal] = member;
        Bucket(principal).Members[principal] = member;
        State.MemberCount++;
        TouchMember(principal);
    }

    private void RemoveMember(string principal)
    {
        State.InboxPending.Add(new InboxUpdate(principal, Member: false));
        _members.Remove(principal);
        Bucket(principal).Members.Remove(principal);
        State.MemberCount--;
        TouchMember(principal);
    }

    private void MoveMarker(string principal, MemberState member, long upTo)
    {
        member.Read = upTo;
        member.Mentions?.RemoveAll(s => s <= upTo);
        if (member.Mentions is { Count: 0 })
        {
            member.Mentions = null;
        }

        TouchMember(principal);
    }

    private MemberBucket Bucket(string principal)
    {
        var number = BucketOf(principal);
        if (!_buckets.TryGetValue(number, out var bucket))
        {
            _buckets[number] = bucket = new MemberBucket();
        }

        return bucket;
    }

    /// <summary>The member's bucket is written with the commit.</summary>
    private void TouchMember(string principal)
    {
        var number = BucketOf(principal);
        _memberChunks.Put("b" + number.ToString(CultureInfo.InvariantCulture), _buckets[number]);
    }

    /// <summary>A stable hash of the id (FNV-1a), the same in every process.</summary>
    internal static int BucketOf(string principal)
    {
        var hash = 2166136261u;
        foreach (var c in principal)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % MemberBuckets);
    }

    // ---- Pages ----

    /// <summary>
    /// Where a message is: its page number, the page, its index in it, the message, and for a closed page the index
    /// chunk that summarizes it (held here so that a change can reach it without waiting).
    /// </summary>
    private readonly record struct Located(int Page, MessageChunk Chunk, int Index, StoredMessage Message, IndexChunk? Summary);

    private static string PageId(int page) => "m" + page.ToString(CultureInfo.InvariantCulture);

    private static string IndexId(int index) => "x" + index.ToString(CultureInfo.InvariantCulture);

    private static string ThreadId(long root, int part) => $"t{root.ToString(CultureInfo.InvariantCulture)}.{part.ToString(CultureInfo.InvariantCulture)}";

    private static string VersionId(long message) => "v" + message.ToString(CultureInfo.InvariantCulture);

    private static string Id(long message) => message.ToString(CultureInfo.InvariantCulture);

    private async ValueTask<MessageChunk> PageAsync(int page) =>
        page == State.Pages - 1 ? _open! : await _pages.GetAsync(PageId(page)) ?? new MessageChunk();

    private async ValueTask<IndexChunk> IndexAsync(int index) =>
        index == _lastIndexNumber ? _lastIndex! : await _index.GetAsync(IndexId(index)) ?? new IndexChunk();

    /// <summary>A page's summary: from the index for a closed page, counted for the open one.</summary>
    private async ValueTask<PageEntry> EntryAsync(int page)
    {
        if (page == State.Pages - 1)
        {
            return PageEntry.Of(_open!.Items, State.OpenFirst);
        }

        var chunk = await IndexAsync(page / IndexSpan);
        return chunk.Pages[page % IndexSpan];
    }

    /// <summary>The page holding <paramref name="seq"/>, or the last page that starts before it; -1 if it is before every page.</summary>
    private async ValueTask<int> PageAtOrBeforeAsync(long seq)
    {
        if (State.Pages == 0)
        {
            return -1;
        }

        if (seq >= State.OpenFirst)
        {
            return State.Pages - 1;
        }

        var index = CountAtOrBelow(State.IndexStarts, seq, static start => start) - 1;
        if (index < 0)
        {
            return -1;
        }

        // The chunk's first page starts at or before the sequence, so at least one entry counts.
        return (index * IndexSpan) + CountAtOrBelow((await IndexAsync(index)).Pages, seq, static entry => entry.First) - 1;
    }

    private async ValueTask<Located?> LocateAsync(long seq)
    {
        if (seq < 1 || seq > State.Version)
        {
            return null;
        }

        var page = await PageAtOrBeforeAsync(seq);
        if (page < 0)
        {
            return null;
        }

        var chunk = await PageAsync(page);
        var index = CountAtOrBelow(chunk.Items, seq, static message => message.Seq) - 1;
        if (index < 0 || chunk.Items[index].Seq != seq)
        {
            return null;
        }

        var summary = page == State.Pages - 1 ? null : await IndexAsync(page / IndexSpan);
        return new Located(page, chunk, index, chunk.Items[index], summary);
    }

    /// <summary>A changed message goes back to its page, which the commit writes.</summary>
    private void Replace(Located at, StoredMessage updated)
    {
        at.Chunk.Items[at.Index] = updated;
        _pages.Put(PageId(at.Page), at.Chunk);
    }

    /// <summary>A closed page's live count changes in its index entry (the open page's is counted when asked).</summary>
    private void CountLive(Located at, int delta)
    {
        if (at.Summary is not { } chunk)
        {
            return;
        }

        var index = at.Page / IndexSpan;
        var entry = chunk.Pages[at.Page % IndexSpan];
        chunk.Pages[at.Page % IndexSpan] = entry with { Live = entry.Live + delta };
        _index.Put(IndexId(index), chunk);
    }

    /// <summary>Before a post, the index chunk that takes the open page's summary if the post closes it.</summary>
    private async Task EnsureIndexForCloseAsync()
    {
        var target = (State.Pages - 1) / IndexSpan;
        if (State.Pages > 0 && (State.Pages - 1) % IndexSpan != 0 && _lastIndexNumber != target)
        {
            _lastIndex = await _index.GetAsync(IndexId(target)) ?? new IndexChunk();
            _lastIndexNumber = target;
        }
    }

    /// <summary>Appends a message to the open page, first closing it if it is full.</summary>
    private void Append(StoredMessage message)
    {
        if (_open is null)
        {
            _open = new MessageChunk();
            State.Pages = 1;
            State.OpenFirst = message.Seq;
        }
        else if (_open.Items.Count >= _limits.MessagesPerPage || (_open.Items.Count > 0 && _open.Items.Sum(m => m.ApproximateBytes) + message.ApproximateBytes > PageBytes))
        {
            var closing = State.Pages - 1;
            var entry = PageEntry.Of(_open.Items, State.OpenFirst);
            if (closing % IndexSpan == 0)
            {
                _lastIndex = new IndexChunk();
                _lastIndexNumber = closing / IndexSpan;
                State.IndexStarts.Add(entry.First);
            }

            _lastIndex!.Pages.Add(entry);
            _index.Put(IndexId(closing / IndexSpan), _lastIndex);
            _open = new MessageChunk();
            State.Pages++;
            State.OpenFirst = message.Seq;
        }

        _open.Items.Add(message);
        _pages.Put(PageId(State.Pages - 1), _open);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> messages (not replies; tombstones included) after <paramref name="from"/> going
    /// forward, or before it going back, nearest first; and whether there are no more that way. Pages without any
    /// such message are skipped by their summary, unloaded.
    /// </summary>
    private async Task<(List<StoredMessage> Items, bool Exhausted)> TakeAsync(long from, bool forward, int limit)
    {
        var taken = new List<StoredMessage>(Math.Min(limit + 1, 256));
        if (State.Pages == 0 || limit < 0)
        {
            return (taken, true);
        }

        var page = forward ? Math.Max(0, await PageAtOrBeforeAsync(from)) : Math.Min(State.Pages - 1, await PageAtOrBeforeAsync(from));
        for (; page >= 0 && page < State.Pages; page += forward ? 1 : -1)
        {
            var entry = await EntryAsync(page);
            if (entry.TopLevel == 0 || (forward ? entry.Last <= from : entry.First >= from))
            {
                continue;
            }

            var items = (await PageAsync(page)).Items;
            for (var i = forward ? 0 : items.Count - 1; i >= 0 && i < items.Count; i += forward ? 1 : -1)
            {
                var message = items[i];
                if (message.Root is null && (forward ? message.Seq > from : message.Seq < from))
                {
                    if (taken.Count == limit)
                    {
                        return (taken, false);
                    }

                    taken.Add(message);
                }
            }
        }

        return (taken, true);
    }

    /// <summary>Live messages (not replies) after <paramref name="marker"/>, counted from the newest page back; capped.</summary>
    private async Task<(int Count, bool More)> UnreadAsync(long marker)
    {
        var count = 0;
        for (var page = State.Pages - 1; page >= 0 && count <= UnreadCap; page--)
        {
            var entry = await EntryAsync(page);
            if (entry.Last <= marker)
            {
                break;
            }

            if (entry.First > marker)
            {
                count += entry.Live;
                continue;
            }

            count += (await PageAsync(page)).Items.Count(m => m.Seq > marker && m.Root is null && !m.IsDeleted);
            break;
        }

        return (Math.Min(count, UnreadCap), count > UnreadCap);
    }

    /// <summary>The sequence of the thread's reply at <paramref name="position"/>.</summary>
    private async ValueTask<long> ThreadSequenceAsync(long root, int position) =>
        (await _threads.GetAsync(ThreadId(root, position / ThreadSpan)))!.Replies[position % ThreadSpan];

    /// <summary>The position of the thread's first reply at or after <paramref name="seq"/> (its count if none).</summary>
    private async ValueTask<int> ThreadPositionAsync(long root, int total, long seq)
    {
        var low = 0;
        var high = total;
        while (low < high)
        {
            var mid = (low + high) / 2;
            if (await ThreadSequenceAsync(root, mid) < seq)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    /// <summary>How many of <paramref name="sorted"/> (ascending by <paramref name="key"/>) have a key at or below <paramref name="value"/>.</summary>
    private static int CountAtOrBelow<T>(IReadOnlyList<T> sorted, long value, Func<T, long> key)
    {
        var low = 0;
        var high = sorted.Count;
        while (low < high)
        {
            var mid = (low + high) / 2;
            if (key(sorted[mid]) <= value)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    // ---- Shapes and checks ----

    private static Applied<ChannelChange> Unchanged(string? id = null) => new(null, id, 0, Unchanged: true);

    private static Located Found(Located? at, long message) =>
        at ?? throw new NotFoundException("message", message.ToString(CultureInfo.InvariantCulture));

    private static Located Live(Located? at, long message)
    {
        var found = Found(at, message);
        return found.Message.IsDeleted ? throw new InvalidRequestException(nameof(message), "the message is deleted") : found;
    }

    private static ChatMessage ToMessage(StoredMessage m, string? reader) => new(
        m.Seq, m.Author, m.At, m.Text, m.Payload, m.Mentions ?? [], m.MentionsChannel, m.Attachments ?? [], m.Root,
        m.ThreadTotal > 0 ? new ThreadSummary(m.Replies, m.LastReplyAt!.Value, m.Participants ?? []) : null,
        m.Reactions is null ? [] : [.. m.Reactions.Select(r => new ReactionCount(r.Key, r.By.Count, reader is not null && r.By.Contains(reader)))],
        m.Edits, m.EditedAt, m.Pinned, m.DeletedAt is { } at ? new MessageDeletion(m.DeletedBy!, at) : null);

    private int PageLimit(HistoryQuery query)
    {
        var limit = query.Limit ?? _limits.DefaultPageSize;
        if (limit < 1)
        {
            throw new InvalidRequestException(nameof(query.Limit), "must be 1 or more");
        }

        return limit > _limits.MaxPageSize ? throw channel.Limit(nameof(ChatOptions.MaxPageSize), _limits.MaxPageSize, limit) : limit;
    }

    private static void RequireSequence(HistoryQuery query)
    {
        if (query.Sequence is null)
        {
            throw new InvalidRequestException(nameof(query.Sequence), $"the anchor {query.Anchor} needs a sequence");
        }
    }

    private void NotDirect(string what)
    {
        if (State.Direct)
        {
            throw new InvalidRequestException("channel", $"a direct conversation is not {what}");
        }
    }


    private void ValidateName(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new InvalidRequestException(nameof(name), "must not be empty");
        }

        if (name.Length > _limits.MaxNameLength)
        {
            throw channel.Limit(nameof(ChatOptions.MaxNameLength), _limits.MaxNameLength, name.Length);
        }
    }

    private void ValidateTopic(string topic)
    {
        if (topic.Length > _limits.MaxTopicLength)
        {
            throw channel.Limit(nameof(ChatOptions.MaxTopicLength), _limits.MaxTopicLength, topic.Length);
        }
    }

    private void ValidateContent(string? text, string? payload, IReadOnlyList<Attachment>? attachments)
    {
        InvalidRequestException.ThrowIfNull(text, "text");
        if (text.Length > _limits.MaxTextLength)
        {
            throw channel.Limit(nameof(ChatOptions.MaxTextLength), _limits.MaxTextLength, text.Length);
        }

        if (text.Length == 0 && payload is null && attachments is not { Count: > 0 })
        {
            throw new InvalidRequestException(nameof(text), "a message needs text, a payload or an attachment");
        }

        if (payload is not null && Encoding.UTF8.GetByteCount(payload) is var bytes && bytes > _limits.MaxPayloadBytes)
        {
            throw channel.Limit(nameof(ChatOptions.MaxPayloadBytes), _limits.MaxPayloadBytes, bytes);
        }

        if (attachments is null)
        {
            return;
        }

        if (attachments.Count > _limits.MaxAttachments)
        {
            throw channel.Limit(nameof(ChatOptions.MaxAttachments), _limits.MaxAttachments, attachments.Count);
        }

        foreach (var attachment in attachments)
        {
            if (attachment is null || string.IsNullOrWhiteSpace(attachment.Name) || attachment.Name.Length > 255 ||
                string.IsNullOrWhiteSpace(attachment.Reference) || attachment.Reference.Length > 2_048 ||
                attachment.ContentType?.Length > 255 || attachment.Size < 0)
            {
                throw new InvalidRequestException(nameof(attachments),
                    "an attachment needs a name of 1-255 characters, a reference of 1-2048, a content type of at most 255 and a size not negative");
            }
        }
    }

    private List<string> ValidateMentions(IReadOnlyList<string>? mentions)
    {
        if (mentions is null)
        {
            return [];
        }

        if (mentions.Count > _limits.MaxMentions)
        {
            throw channel.Limit(nameof(ChatOptions.MaxMentions), _limits.MaxMentions, mentions.Count);
        }

        foreach (var mention in mentions)
        {
            Principal.Validate(mention, nameof(mentions));
        }

        var author = CallerContext.Principal;
        return [.. mentions.Distinct(StringComparer.Ordinal).Where(m => m != author)];
    }

    private void ValidateReactionKey(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Any(char.IsControl) || key.Any(char.IsWhiteSpace))
        {
            throw new InvalidRequestException(nameof(key), "a reaction key is 1 or more characters, without spaces or control characters");
        }

        var bytes = Encoding.UTF8.GetByteCount(key);
        if (bytes > _limits.MaxReactionKeyBytes)
        {
            throw channel.Limit(nameof(ChatOptions.MaxReactionKeyBytes), _limits.MaxReactionKeyBytes, bytes);
        }
    }
}

using System.Collections.Immutable;
using System.Globalization;
using Groundwork.Chat;
using Groundwork.Client;

namespace Groundwork.ChatProduct;

/// <summary>A typed line, parsed: what to do, to which message, with which text.</summary>
internal sealed record ChatCommand(string Verb, long Target = 0, string Text = "");

/// <summary>
/// One member in one channel: the messages seen, who types and who is online, the other channels' counts, and the
/// commands. Everything it shows comes from the grains; it only keeps the latest of it.
/// </summary>
internal sealed class ChatSession(IClusterClient grains, string tenant, string me, string channelName)
{
    private const string Reconnecting = "reconnecting...";
    private readonly string _connection = Guid.NewGuid().ToString("n");
    private long _version;
    private bool _active = true;
    private DateTime _typingSent;

    public IChannelGrain Channel { get; } = grains.GetChannel($"{tenant}/channel/{channelName}");

    public string Me => me;

    public string Title { get; private set; } = channelName;

    // Snapshots, replaced whole: the screen draws them while the feed and presence followers write them.
    public ImmutableSortedDictionary<long, ChatMessage> Messages { get; private set; } = ImmutableSortedDictionary<long, ChatMessage>.Empty;

    public IReadOnlyList<Typist> Typing { get; private set; } = [];

    public ImmutableDictionary<string, PresenceStatus> Presence { get; private set; } = ImmutableDictionary.Create<string, PresenceStatus>(StringComparer.Ordinal);

    public IReadOnlyList<InboxEntry> Others { get; private set; } = [];

    public string Notice { get; set; } = "";

    /// <summary>Something shown changed.</summary>
    public event Action? Changed;

    /// <summary>Joins a public channel not yet joined, and reads the newest page.</summary>
    public async Task OpenAsync()
    {
        var info = await Channel.GetAsync();
        if (info.MyRole is null)
        {
            await Channel.JoinAsync();
        }

        Title = $"#{info.Name}" + (info.Topic.Length > 0 ? $" · {info.Topic}" : "");
        var page = await Channel.GetHistoryAsync(new HistoryQuery(Limit: 100));
        foreach (var message in page.Messages)
        {
            Messages = Messages.SetItem(message.Sequence, message);
        }

        _version = page.Version;
    }

    public static ChatCommand Parse(string line)
    {
        var text = line.Trim();
        if (!text.StartsWith('/'))
        {
            return new ChatCommand("post", Text: text);
        }

        var parts = text.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        var verb = parts[0][1..].ToLowerInvariant();
        if (verb == "quit")
        {
            return new ChatCommand(verb);
        }

        if (parts.Length < 2 || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out var target) ||
            verb is not ("reply" or "edit" or "delete" or "react" or "unreact" or "pin"))
        {
            return new ChatCommand("help", Text: "/reply N text · /edit N text · /delete N · /react N key · /unreact N key · /pin N · /quit");
        }

        return new ChatCommand(verb, target, parts.Length > 2 ? parts[2] : "");
    }

    /// <summary>Runs a command; a refusal (a limit, the rate, no right) becomes the notice rather than an exit.</summary>
    public async Task<bool> ExecuteAsync(ChatCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var options = new MutationOptions(OperationId: Guid.NewGuid().ToString("n"));
        _typingSent = default; // a post ends typing on the server: the next key says so again at once
        Notice = command.Verb == "help" ? command.Text : "";
        try
        {
            var call = command.Verb switch
            {
                "post" when command.Text.Length > 0 => Channel.PostAsync(new NewMessage(command.Text), options),
                "reply" => Channel.PostAsync(new NewMessage(command.Text, ReplyTo: command.Target), options),
                "edit" => Channel.EditAsync(command.Target, command.Text, options),
                "delete" => Channel.DeleteAsync(command.Target, options),
                "pin" => Channel.PinAsync(command.Target, options: options),
                "react" or "unreact" => Channel.ReactAsync(command.Target, command.Text, command.Verb == "react", options),
                _ => null, // quit, help, an empty line
            };
            if (call is not null)
            {
                await call;
            }
        }
        catch (GroundworkException refused)
        {
            Notice = refused is RateLimitedException rate ? $"slow down: try again in {rate.RetryAfter.TotalSeconds:0.#} s" : refused.Message;
        }

        Changed?.Invoke();
        return command.Verb != "quit";
    }

    /// <summary>A key was typed: say so (at most every 3 seconds) and count the member active.</summary>
    public async Task KeyTypedAsync()
    {
        _active = true;
        if (DateTime.UtcNow - _typingSent > TimeSpan.FromSeconds(3))
        {
            _typingSent = DateTime.UtcNow;
            await Channel.TypingAsync();
        }
    }

    /// <summary>Applies one feed change to what is shown.</summary>
    public void Apply(ChannelChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        _version = change.Sequence;
        Notice = Notice == Reconnecting ? "" : Notice;
        if (change.Message is { } message)
        {
            // Reactions are not in a change's message: keep the ones known.
            var reactions = Messages.TryGetValue(message.Sequence, out var known) && change.Kind == ChannelChangeKind.Edited ? known.Reactions : message.Reactions;
            Messages = Messages.SetItem(message.Sequence, message with { Reactions = reactions });
            if (message.Root is { } root && change.Kind == ChannelChangeKind.Posted && Messages.TryGetValue(root, out var parent))
            {
                var replies = (parent.Thread?.Replies ?? 0) + 1;
                Messages = Messages.SetItem(root, parent with { Thread = new ThreadSummary(replies, message.At, parent.Thread?.Participants ?? []) });
            }
        }
        else if (change is { Target: { } target, Key: { } key } && Messages.TryGetValue(target, out var reacted))
        {
            var delta = change.Kind == ChannelChangeKind.ReactionAdded ? 1 : -1;
            var mine = change.By == me;
            var old = reacted.Reactions.FirstOrDefault(r => r.Key == key) ?? new ReactionCount(key, 0, false);
            var updated = old with { Count = old.Count + delta, Mine = mine ? delta > 0 : old.Mine };
            Messages = Messages.SetItem(target, reacted with { Reactions = [.. reacted.Reactions.Where(r => r.Key != key).Append(updated).Where(r => r.Count > 0)] });
        }

        Changed?.Invoke();
    }

    /// <summary>Follows the channel, its typing, its members' presence and the other channels until cancelled.</summary>
    public Task FollowAsync(CancellationToken stop) => Task.WhenAll(
        Forever(async () =>
        {
            // Through the relay of the connected silo; reopens from the last change seen, so a silo restart leaves no gap and no duplicate.
            await foreach (var change in grains.WatchFeedAsync<ChannelChange>(Channel.GetPrimaryKeyString(), _version, stop))
            {
                Apply(change);
            }
        }, stop),
        Forever(async () =>
        {
            await foreach (var live in Channel.WatchLiveAsync(stop))
            {
                Typing = [.. live.Typing.Where(t => t.Principal != me)];
                Changed?.Invoke();
            }
        }, stop),
        Forever(async () =>
        {
            var members = (await Channel.GetMembersAsync(limit: 1_000)).Members.Select(m => m.Principal).ToList();
            await foreach (var changes in grains.GetPresence(tenant).WatchAsync(members, stop))
            {
                changes.ToList().ForEach(p => Presence = Presence.SetItem(p.Principal, p.Status));
                Changed?.Invoke();
            }
        }, stop),
        Forever(async () =>
        {
            while (true)
            {
                var wait = await grains.GetPresence(tenant).HeartbeatAsync(_connection, _active);
                _active = false;
                Others = [.. (await grains.GetInbox(tenant, me).ListAsync()).Entries.Where(e => e.Channel != Channel.GetPrimaryKeyString())];
                Changed?.Invoke();
                await Task.Delay(TimeSpan.FromTicks(Math.Min(wait.Ticks, TimeSpan.FromSeconds(5).Ticks)), stop);
            }
        }, stop));

    /// <summary>Says goodbye to presence, so others see the member leave at once.</summary>
    public Task DisconnectAsync() => grains.GetPresence(tenant).DisconnectAsync(_connection);

    /// <summary>Runs a loop again after any failure (a silo restart, a gateway lost) until cancelled, saying so meanwhile.</summary>
    private async Task Forever(Func<Task> loop, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await loop();
            }
            catch (Exception) when (!stop.IsCancellationRequested)
            {
                Notice = Reconnecting;
                Changed?.Invoke();
                await Task.Delay(TimeSpan.FromSeconds(1), stop).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }
}

using Groundwork.Access;
using Groundwork.Chat;
using Groundwork.Grains.Access;
using Microsoft.Extensions.Options;

namespace Groundwork.Grains.Chat;

/// <summary>The channels of one member's inbox, as stored.</summary>
public sealed class InboxState
{
    /// <summary>Channel keys, in the order they were joined.</summary>
    public List<string> Channels { get; set; } = [];
}

/// <summary>
/// A member's inbox: which channels to ask (<see cref="IInboxGrain"/>). A read asks each of them, in parallel, for the
/// member's entry and orders the answers; a channel that no longer counts the member leaves the inbox then.
/// </summary>
public sealed class InboxGrain(
    [PersistentState(InboxGrain.StateName, StorageNames.Provider)] IPersistentState<InboxState> state,
    IOptions<ChatOptions> options) : Grain, IInboxGrain, IAccessControlled
{
    /// <summary>The state name in storage.</summary>
    public const string StateName = "inbox";

    private readonly ChatOptions _limits = options.Value;
    private ResourceKey? _key;
    private bool _parsed;
    private AccessRule? _rule;

    // Parsed once: the access filter asks for the tenant, the key's error and the rule on every call.
    private ResourceKey? Key
    {
        get
        {
            if (!_parsed)
            {
                _key = ResourceKey.TryParse(this.GetPrimaryKeyString(), out var key) && key.Kind == "inbox" ? key : null;
                _parsed = true;
            }

            return _key;
        }
    }

    /// <inheritdoc/>
    public string? Tenant => Key?.Tenant;

    /// <inheritdoc/>
    public InvalidResourceKeyException? KeyError => Key is null ? new InvalidResourceKeyException(this.GetPrimaryKeyString(), "expected an 'inbox' key") : null;

    /// <inheritdoc/>
    public AccessList? AccessList => null;

    /// <inheritdoc/>
    public AccessRule? Rule => _rule ??= Allows;

    /// <inheritdoc/>
    public async Task<InboxPage> ListAsync(int offset = 0, int limit = 50)
    {
        if (offset < 0 || limit is < 1 or > 200)
        {
            throw new InvalidRequestException(offset < 0 ? nameof(offset) : nameof(limit), offset < 0 ? "must be 0 or more" : "must be 1-200");
        }

        // Each channel answers for the caller (whose key flows with the call), so only the inbox's member reads it:
        // tenant admins, whom the access filter lets through, would see their own counts and drop channels.
        if (CallerContext.Current is not { } caller || InboxKeys.NameOf(caller.Principal) != Key!.Value.Name)
        {
            throw new AccessDeniedException(AccessDenialReason.NotOnAccessList, "an inbox is read by its member only");
        }

        var channels = state.State.Channels.ToList();
        var answers = await Task.WhenAll(channels.Select(async key =>
        {
            try
            {
                return (key, Entry: await GrainFactory.GetChannel(key).GetInboxEntryAsync(), Gone: false);
            }
            catch (Exception error) when (error is AccessDeniedException or NotFoundException)
            {
                return (key, Entry: null, Gone: true);
            }
        }));

        var gone = answers.Where(a => a.Gone || a.Entry is null).Select(a => a.key).ToHashSet(StringComparer.Ordinal);
        if (gone.Count > 0)
        {
            state.State.Channels.RemoveAll(gone.Contains);
            await state.WriteStateAsync();
        }

        var entries = answers.Where(a => a.Entry is not null).Select(a => a.Entry!)
            .OrderByDescending(e => e.LastMessageAt ?? DateTimeOffset.MinValue)
            .ThenBy(e => e.Channel, StringComparer.Ordinal)
            .ToList();
        return new InboxPage([.. entries.Skip(offset).Take(limit)], entries.Count);
    }

    /// <inheritdoc/>
    public async Task TrackAsync(string channel, bool member)
    {
        if (!ResourceKey.TryParse(channel, out var key) || key.Kind != "channel" || key.Tenant != Tenant)
        {
            throw new InvalidRequestException(nameof(channel), "must be a channel key of the inbox's tenant");
        }

        var channels = state.State.Channels;
        var known = channels.Contains(channel);
        if (known == member)
        {
            return;
        }

        if (member && channels.Count >= _limits.MaxInboxChannels)
        {
            throw new LimitExceededException($"Chat:{nameof(ChatOptions.MaxInboxChannels)}", _limits.MaxInboxChannels, channels.Count + 1);
        }

        if (member)
        {
            channels.Add(channel);
        }
        else
        {
            channels.Remove(channel);
        }

        await state.WriteStateAsync();
    }

    /// <summary>An inbox is its member's: they read it (a tenant viewer at least); channels write it as the silo.</summary>
    private AccessDeniedException? Allows(Caller caller, Requirement requirement) =>
        Key is { } key && InboxKeys.NameOf(caller.Principal) == key.Name && caller.Role >= TenantRole.Viewer && requirement == Requirement.Read
            ? null
            : new AccessDeniedException(AccessDenialReason.NotOnAccessList, $"'{caller.Principal}' may not {requirement.ToString().ToLowerInvariant()} this inbox: it is another member's, and channels keep it");
}

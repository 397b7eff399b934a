using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Groundwork.Gateway.Contract;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Groundwork.Gateway.Http;

/// <summary>
/// Single-use tickets for browser feeds: <c>EventSource</c> and <c>WebSocket</c> cannot send an
/// <c>Authorization</c> header, so a page asks <c>POST /v1/tickets</c> (with its key or token) for a ticket and opens
/// the feed with <c>?ticket=</c>. A ticket is 256 random bits, lives <see cref="HttpGatewayOptions.TicketLifetime"/>,
/// opens one feed and stands for the credential that asked for it; the secret itself never goes in a URL. Tickets are
/// kept in this gateway process, so a feed is opened at the gateway that issued its ticket.
/// </summary>
internal sealed class TicketStore(IOptions<HttpGatewayOptions> options, TimeProvider time)
{
    /// <summary>The form every ticket has: <c>gwt_</c> and 43 base64url characters.</summary>
    public const string Prefix = "gwt_";

    // Both under _gate: the tickets, and how many each rate-limit partition (key or token subject) holds.
    private readonly Dictionary<string, Entry> _tickets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly HttpGatewayOptions _options = options.Value;

    /// <summary>
    /// A new ticket for the caller's credential; <c>(null, _)</c> when the caller holds
    /// <see cref="HttpGatewayOptions.MaxTicketsPerKey"/> unused ones, null when the gateway holds
    /// <see cref="HttpGatewayOptions.MaxTickets"/>.
    /// </summary>
    public (string? Ticket, DateTimeOffset Expires)? Issue(ClaimsPrincipal caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var now = time.GetUtcNow();
        var partition = caller.FindFirst(ApiKeyAuthenticationHandler.PartitionClaim)?.Value ?? "";
        lock (_gate)
        {
            if (_tickets.Count >= _options.MaxTickets || _counts.GetValueOrDefault(partition) >= _options.MaxTicketsPerKey)
            {
                foreach (var id in _tickets.Where(t => t.Value.Expires <= now).Select(t => t.Key).ToList())
                {
                    Remove(id);
                }
            }

            if (_counts.GetValueOrDefault(partition) >= _options.MaxTicketsPerKey)
            {
                return (null, default);
            }

            if (_tickets.Count >= _options.MaxTickets)
            {
                return null;
            }

            var ticket = Prefix + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
            var expires = now + _options.TicketLifetime;
            _tickets[ticket] = new Entry([.. caller.Claims.Select(c => new Claim(c.Type, c.Value))], partition, expires);
            _counts[partition] = _counts.GetValueOrDefault(partition) + 1;
            return (ticket, expires);
        }
    }

    /// <summary>The claims <paramref name="ticket"/> stands for, once: a second use, an unknown or expired ticket give null.</summary>
    public IReadOnlyList<Claim>? Redeem(string ticket)
    {
        lock (_gate)
        {
            return Remove(ticket) is { } entry && entry.Expires > time.GetUtcNow() ? entry.Claims : null;
        }
    }

    private Entry? Remove(string ticket)
    {
        if (!_tickets.Remove(ticket, out var entry))
        {
            return null;
        }

        if (_counts.TryGetValue(entry.Partition, out var count))
        {
            if (count <= 1)
            {
                _counts.Remove(entry.Partition);
            }
            else
            {
                _counts[entry.Partition] = count - 1;
            }
        }

        return entry;
    }

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private sealed record Entry(IReadOnlyList<Claim> Claims, string Partition, DateTimeOffset Expires);
}

/// <summary>
/// Authenticates a feed opened with <c>?ticket=</c> (and no <c>Authorization</c> header) as the credential that asked
/// for the ticket. Only stream operations accept tickets; any other route is a 401.
/// </summary>
internal sealed class TicketAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TicketStore tickets)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "GroundworkTicket";

    /// <summary>The query parameter that carries a ticket.</summary>
    public const string QueryName = "ticket";

    private const string FailureItem = "groundwork:ticket-failure";

    /// <summary>Whether a request carries a ticket instead of an <c>Authorization</c> header.</summary>
    public static bool Carries(HttpRequest request) =>
        request.Headers.Authorization.Count == 0 && request.Query.ContainsKey(QueryName);

    /// <inheritdoc/>
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Query.TryGetValue(QueryName, out var values))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        string? failure = null;
        if (Context.GetEndpoint()?.Metadata.GetMetadata<GatewayOperation>() is not { Shape: ResultShape.Stream } &&
            Context.GetEndpoint()?.Metadata.GetMetadata<TicketAcceptedAttribute>() is null)
        {
            failure = "a ticket opens a feed (a watch over Server-Sent Events or the WebSocket) only; send the key or token as Authorization: Bearer";
        }
        else if (values.Count != 1 || values[0] is not { Length: > 0 and < 100 } text || !text.StartsWith(TicketStore.Prefix, StringComparison.Ordinal))
        {
            failure = "the ticket is malformed";
        }
        else if (tickets.Redeem(text) is not { } claims)
        {
            failure = "the ticket is unknown, expired or already used: ask POST /v1/tickets for a new one";
        }
        else
        {
            var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
        }

        Context.Items[FailureItem] = failure;
        return Task.FromResult(AuthenticateResult.Fail(failure));
    }

    /// <inheritdoc/>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Problem.Unauthenticated((Context.Items[FailureItem] as string ?? "the ticket was refused") + ".", "InvalidTicket").WriteAsync(Context);
}

/// <summary>Marks an endpoint other than a stream operation (the WebSocket) as opened with a ticket.</summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
internal sealed class TicketAcceptedAttribute : Attribute;

/// <summary>The answer of <c>POST /v1/tickets</c>.</summary>
/// <param name="Ticket">The ticket: <c>?ticket=</c> on one feed's URL.</param>
/// <param name="ExpiresAt">When it stops being accepted.</param>
/// <param name="ExpiresIn">Seconds until then.</param>
internal sealed record TicketAnswer(string Ticket, DateTimeOffset ExpiresAt, int ExpiresIn);

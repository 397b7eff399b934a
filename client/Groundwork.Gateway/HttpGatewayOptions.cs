using System.ComponentModel.DataAnnotations;

namespace Groundwork.Gateway;

/// <summary>The gateway's limits, bound to <c>Groundwork:Gateway</c> and checked at start.</summary>
public sealed class HttpGatewayOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Groundwork:Gateway";

    /// <summary>Whether the silo serves the gateway on its HTTP port (default true; the standalone host always does).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Whether the gateway serves the web product at <c>/</c> (default true): static files built into the gateway.</summary>
    public bool WebProduct { get; set; } = true;

    /// <summary>The largest request body, in bytes (default 1 MiB, as a message to the silo); a larger one gets 413.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Requests per second each API key may make, on average (default 200); over it, 429 with <c>Retry-After</c>.</summary>
    [Range(1, 1_000_000)]
    public int RequestsPerSecond { get; set; } = 200;

    /// <summary>Requests a key may make at once above its rate (default 400).</summary>
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 400;

    /// <summary>How often an open event stream sends a comment line so proxies keep it open (default 15 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long an event stream waits for its first item before it answers 200: an error within it (no access, a
    /// cursor out of retention) is an HTTP status; a later one is an <c>error</c> event (default 1 s).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:30")]
    public TimeSpan StreamOpenWindow { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many times in a row an event stream reopens after its silo went away before it gives up (default 10).</summary>
    [Range(0, 1000)]
    public int MaxReopens { get; set; } = 10;

    /// <summary>How long a browser feed ticket (<c>POST /v1/tickets</c>) may wait to be used (default 30 s).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan TicketLifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many tickets may be outstanding in this gateway at once (default 10,000); over it, 503 with <c>Retry-After</c>.</summary>
    [Range(1, 10_000_000)]
    public int MaxTickets { get; set; } = 10_000;

    /// <summary>How many unused tickets one key (or token subject) may hold (default 100); over it, 429.</summary>
    [Range(1, 1_000_000)]
    public int MaxTicketsPerKey { get; set; } = 100;

    /// <summary>The largest WebSocket message a client may send, in bytes (default 1 MiB); a larger one closes with 1009.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>How many feeds one WebSocket may subscribe to at once (default 100).</summary>
    [Range(1, 100_000)]
    public int MaxSubscriptions { get; set; } = 100;

    /// <summary>How many calls one WebSocket may have in flight (default 64).</summary>
    [Range(1, 100_000)]
    public int MaxCallsInFlight { get; set; } = 64;

    /// <summary>
    /// How many messages may wait to be sent on one WebSocket (default 256): a feed whose event finds them full is told
    /// it lags and resumes from its cursor once half have gone.
    /// </summary>
    [Range(2, 1_000_000)]
    public int WebSocketOutbox { get; set; } = 256;

    /// <summary>How long a WebSocket may send nothing, not even a ping, before it is closed with 4408 (default 60 s).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan WebSocketIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Browser origins allowed to open the WebSocket (e.g. <c>https://app.example.com</c>); none: the gateway's own host only.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>JWT bearer tokens from a configured issuer, besides API keys (off by default).</summary>
    public Http.JwtGatewayOptions Jwt { get; set; } = new();

    /// <summary>The token bucket of <see cref="RequestsPerSecond"/> and <see cref="Burst"/>: per key over HTTP, per socket over WebSocket.</summary>
    public System.Threading.RateLimiting.TokenBucketRateLimiterOptions TokenBucket() => new()
    {
        TokenLimit = Burst,
        TokensPerPeriod = RequestsPerSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}

/// <summary>Checks <see cref="HttpGatewayOptions.Jwt"/> at start, with a message that names the setting.</summary>
internal sealed class HttpGatewayOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<HttpGatewayOptions>
{
    /// <inheritdoc/>
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, HttpGatewayOptions options) =>
        options.Jwt.Problem() is { } problem
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail(problem)
            : Microsoft.Extensions.Options.ValidateOptionsResult.Success;
}

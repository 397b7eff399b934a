using System.Collections.Concurrent;
using System.Net;
using Groundwork.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;
using static Groundwork.Gateway.Tests.GatewayFixture;

namespace Groundwork.Gateway.Tests;

/// <summary>
/// Browser feed tickets: one ticket opens one feed as the credential that asked for it, within its lifetime, and
/// nothing else; neither tickets nor keys reach the log.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class TicketTests(GatewayFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_ticket_opens_one_feed_once_as_its_credential()
    {
        var log = new CapturedLog();
        // Even with ASP.NET Core's own logs turned up to Trace by the operator.
        var settings = new Dictionary<string, string?>(GatewaySettings) { ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace" };
        await using WebApplication app = await StartGatewayAsync(fixture.Cluster, settings, builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
            builder.Logging.AddProvider(log);
        });
        var http = app.GetTestClient();
        var (tenant, path) = await ListAsync(http);
        var ticket = await TicketAsync(http, tenant.OwnerKey);

        using (var first = await OpenAsync(http, $"{path}/watch?afterSequence=0&ticket={ticket}"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            await using var reader = new SseReader(await first.Content.ReadAsStreamAsync());
            await reader.NextEventAsync(Wait); // retry
            Assert.Equal("1", (await reader.NextEventAsync(Wait))?.Id);
        }

        using var again = await OpenAsync(http, $"{path}/watch?afterSequence=0&ticket={ticket}");
        var problem = await again.ProblemAsync(HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Equal("InvalidTicket", problem.GetProperty("reason").GetString());
        Assert.Contains("already used", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var secret = tenant.OwnerKey[(tenant.OwnerKey.LastIndexOf('_') + 1)..];
        Assert.Contains(log.Lines, line => line.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal)); // the log was on
        Assert.DoesNotContain(log.Lines, line => line.Contains(ticket, StringComparison.Ordinal) || line.Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_ticket_does_not_open_anything_but_a_feed_nor_another_tenants_feed()
    {
        var http = fixture.Http;
        var (tenant, path) = await ListAsync(http);
        using var read = await http.GetAsync(new Uri($"{path}/get?ticket={await TicketAsync(http, tenant.OwnerKey)}", UriKind.Relative));
        Assert.Contains("opens a feed", (await read.ProblemAsync(HttpStatusCode.Unauthorized, "unauthenticated")).GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var more = await http.PostAsync(new Uri($"/v1/tickets?ticket={await TicketAsync(http, tenant.OwnerKey)}", UriKind.Relative), null);
        await more.ProblemAsync(HttpStatusCode.Unauthorized, "unauthenticated");

        var other = await fixture.Cluster.NewTenantAsync();
        using var foreign = await OpenAsync(http, $"{path}/watch?afterSequence=0&ticket={await TicketAsync(http, other.OwnerKey)}");
        await foreign.ProblemAsync(HttpStatusCode.NotFound, "not-found");

        foreach (var bad in new[] { "gwt_unknown", "nope", "" })
        {
            using var refused = await OpenAsync(http, $"{path}/watch?afterSequence=0&ticket={bad}");
            await refused.ProblemAsync(HttpStatusCode.Unauthorized, "unauthenticated");
        }

        using var anonymous = await http.PostAsync(new Uri("/v1/tickets", UriKind.Relative), null);
        await anonymous.ProblemAsync(HttpStatusCode.Unauthorized, "unauthenticated");

        // The silo verifies the credential before a ticket is issued: a well-formed made-up key gets none.
        using var madeUp = await http.SendAsync(Request(HttpMethod.Post, "/v1/tickets", $"gwk_{tenant.Id}_k0000_madeupsecret"));
        await madeUp.ProblemAsync(HttpStatusCode.Unauthorized, "unauthenticated");
        using var operatorTicket = await http.SendAsync(Request(HttpMethod.Post, "/v1/tickets", fixture.Cluster.OperatorKey));
        await operatorTicket.ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task One_key_may_hold_only_so_many_unused_tickets()
    {
        var settings = new Dictionary<string, string?>(GatewaySettings) { ["Groundwork:Gateway:MaxTicketsPerKey"] = "2" };
        await using WebApplication app = await StartGatewayAsync(fixture.Cluster, settings);
        var http = app.GetTestClient();
        var (tenant, path) = await ListAsync(http);
        var first = await TicketAsync(http, tenant.OwnerKey);
        await TicketAsync(http, tenant.OwnerKey);
        using (var third = await http.SendAsync(Request(HttpMethod.Post, "/v1/tickets", tenant.OwnerKey)))
        {
            Assert.Equal("Gateway:MaxTicketsPerKey", (await third.ProblemAsync(HttpStatusCode.TooManyRequests, "rate-limited")).GetProperty("limit").GetString());
        }

        var other = await fixture.Cluster.NewTenantAsync();
        await TicketAsync(http, other.OwnerKey); // another key is not held back

        using (var opened = await OpenAsync(http, $"{path}/watch?afterSequence=0&ticket={first}"))
        {
            Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        }

        await TicketAsync(http, tenant.OwnerKey); // a used ticket makes room
    }

    [Fact]
    public async Task A_ticket_expires_after_its_lifetime_and_outstanding_tickets_are_bounded()
    {
        var clock = new ManualClock();
        var settings = new Dictionary<string, string?>(GatewaySettings)
        {
            ["Groundwork:Gateway:TicketLifetime"] = "00:00:30",
            ["Groundwork:Gateway:MaxTickets"] = "2",
        };
        await using WebApplication app = await StartGatewayAsync(fixture.Cluster, settings, builder => builder.Services.AddSingleton<TimeProvider>(clock));
        var http = app.GetTestClient();
        var (tenant, path) = await ListAsync(http);

        var stale = await TicketAsync(http, tenant.OwnerKey);
        await TicketAsync(http, tenant.OwnerKey);
        using (var full = await http.SendAsync(Request(HttpMethod.Post, "/v1/tickets", tenant.OwnerKey)))
        {
            await full.ProblemAsync(HttpStatusCode.ServiceUnavailable, "unavailable");
            Assert.Equal(TimeSpan.FromSeconds(30), full.Headers.RetryAfter?.Delta);
        }

        clock.Advance(TimeSpan.FromSeconds(31));
        using (var expired = await OpenAsync(http, $"{path}/watch?afterSequence=0&ticket={stale}"))
        {
            await expired.ProblemAsync(HttpStatusCode.Unauthorized, "unauthenticated");
        }

        // Expired tickets make room again.
        var fresh = await TicketAsync(http, tenant.OwnerKey);
        using var opened = await OpenAsync(http, $"{path}/watch?afterSequence=0&ticket={fresh}");
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
    }

    private async Task<(TestTenant Tenant, string Path)> ListAsync(HttpClient http)
    {
        var tenant = await fixture.Cluster.NewTenantAsync();
        var path = $"/v1/{tenant.Id}/list/{Guid.NewGuid():n}";
        using var created = await http.SendAsync(Request(HttpMethod.Post, $"{path}/create", tenant.OwnerKey, """{"title":"Tickets"}"""));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        return (tenant, path);
    }

    private static async Task<string> TicketAsync(HttpClient http, string key)
    {
        using var response = await http.SendAsync(Request(HttpMethod.Post, "/v1/tickets", key));
        var answer = await response.JsonAsync();
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal(30, answer.GetProperty("expiresIn").GetInt32());
        var ticket = answer.GetProperty("ticket").GetString()!;
        Assert.Matches("^gwt_[A-Za-z0-9_-]{43}$", ticket);
        return ticket;
    }

    private static Task<HttpResponseMessage> OpenAsync(HttpClient http, string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("text/event-stream");
        return http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    /// <summary>Every log line the gateway writes, at every level, with its exception.</summary>
    private sealed class CapturedLog : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturedLog log, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                log.Lines.Enqueue($"{category} {logLevel}: {formatter(state, exception)} {exception}");
        }
    }
}

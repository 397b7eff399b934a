using System.Buffers;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Json;
using System.Threading.Channels;
using System.Threading.RateLimiting;
using Groundwork.Client;
using Groundwork.Gateway.Contract;

namespace Groundwork.Gateway.Http;

/// <summary>
/// One client's WebSocket (subprotocol <c>groundwork.v1</c>, docs/design/gateway.md): several feeds at once and calls
/// of any operation, over one connection authenticated once. Every message to the client goes through one bounded
/// outbox; a feed whose event finds it full stops pulling from its grain, is told it <c>lagging</c>, and resumes
/// from its cursor once the outbox has drained, so a slow reader never holds more than the outbox.
/// </summary>
internal sealed partial class WebSocketSession : IDisposable
{
    /// <summary>The subprotocol.</summary>
    public const string Protocol = "groundwork.v1";

    /// <summary>Close code: the client sent a message over <see cref="HttpGatewayOptions.MaxMessageBytes"/>.</summary>
    public const int CloseTooBig = 1009;

    /// <summary>Close code: the client sent a binary frame.</summary>
    public const int CloseUnsupported = 1003;

    /// <summary>Close code: the gateway is stopping.</summary>
    public const int CloseGoingAway = 1001;

    /// <summary>Close code: the connection's credential was refused (revoked or unknown): reconnect with a new one.</summary>
    public const int CloseUnauthenticated = 4401;

    /// <summary>Close code: the client sent nothing (not even a ping) for <see cref="HttpGatewayOptions.WebSocketIdleTimeout"/>.</summary>
    public const int CloseIdle = 4408;

    private readonly WebSocket _socket;
    private readonly GatewayContract _contract;
    private readonly IGrainFactory _grains;
    private readonly HttpGatewayOptions _options;
    private readonly ILogger _logger;
    private readonly CallCredential _credential;
    private readonly Channel<byte[]> _outbox;
    private readonly Dictionary<string, Subscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _closing;
    private readonly CancellationTokenSource _flushDeadline = new();
    private long _lastReceived = Environment.TickCount64;
    private readonly TokenBucketRateLimiter _rate;
    private readonly Lock _gate = new();
    private TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _calls;
    private readonly CancellationToken _stopping;
    private (int Code, string Reason)? _close;

    private WebSocketSession(
        WebSocket socket, GatewayContract contract, IGrainFactory grains, HttpGatewayOptions options, ILogger logger, ClaimsPrincipal user, CancellationToken stopping)
    {
        _socket = socket;
        _grains = grains;
        _options = options;
        _logger = logger;
        _contract = contract;
        _credential = CallCredential.Of(user);
        _outbox = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(options.WebSocketOutbox) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _closing = new CancellationTokenSource();
        _stopping = stopping;
        _rate = new TokenBucketRateLimiter(options.TokenBucket());
    }

    /// <summary>Accepts the upgrade (after the origin and subprotocol checks) and serves the connection until it closes.</summary>
    public static async Task ServeAsync(HttpContext context, GatewayContract contract, IGrainFactory grains, HttpGatewayOptions options, ILogger logger)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Problem.InvalidRequest("Upgrade", $"this route is a WebSocket (subprotocol {Protocol})").WriteAsync(context);
            return;
        }

        if (!context.WebSockets.WebSocketRequestedProtocols.Contains(Protocol, StringComparer.Ordinal))
        {
            await Problem.InvalidRequest("Sec-WebSocket-Protocol", $"must offer {Protocol}").WriteAsync(context);
            return;
        }

        if (!OriginAllowed(context.Request, options))
        {
            await Problem.Forbidden("This origin may not open the gateway's WebSocket (Groundwork:Gateway:AllowedOrigins).").WriteAsync(context);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = Protocol });
        var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        await RunAsync(socket, contract, grains, options, logger, context.User, stopping, context.RequestAborted);
    }

    /// <summary>Serves an accepted socket as <paramref name="user"/> until it closes (tests drive it over their own transport).</summary>
    internal static async Task RunAsync(
        WebSocket socket, GatewayContract contract, IGrainFactory grains, HttpGatewayOptions options, ILogger logger, ClaimsPrincipal user,
        CancellationToken stopping, CancellationToken aborted)
    {
        using var session = new WebSocketSession(socket, contract, grains, options, logger, user, stopping);
        await session.RunAsync(aborted);
    }

    /// <summary>
    /// A browser's <c>Origin</c> must be one of <see cref="HttpGatewayOptions.AllowedOrigins"/>, or the gateway's own
    /// host when none are set; a client with no <c>Origin</c> (not a browser) is not held back by it.
    /// </summary>
    public static bool OriginAllowed(HttpRequest request, HttpGatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return true;
        }

        if (options.AllowedOrigins.Count > 0)
        {
            return options.AllowedOrigins.Contains(origin.TrimEnd('/'), StringComparer.OrdinalIgnoreCase);
        }

        return Uri.TryCreate(origin, UriKind.Absolute, out var uri) &&
            string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Reads until the client closes or goes away, or the session closes itself: a close from the gateway cancels the
    /// feeds and calls, lets the outbox drain (at most 5 s), then sends the close frame and waits for the client's.
    /// </summary>
    private async Task RunAsync(CancellationToken aborted)
    {
        using var stopping = _stopping.Register(() => Close(CloseGoingAway, "the gateway is stopping"));
        var writer = WriteLoopAsync(aborted);
        Send(new Dictionary<string, object?>
        {
            ["type"] = "welcome",
            ["protocol"] = Protocol,
            ["heartbeatSeconds"] = (int)Math.Ceiling(_options.HeartbeatInterval.TotalSeconds),
            ["maxMessageBytes"] = _options.MaxMessageBytes,
            ["maxSubscriptions"] = _options.MaxSubscriptions,
        });
        try
        {
            await ReadLoopAsync(aborted);
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
            // The client went away without a close frame, or did not answer the gateway's.
        }
        finally
        {
            Close(1000, "closed");
            await writer;
        }
    }

    private async Task ReadLoopAsync(CancellationToken cancellation)
    {
        var buffer = new byte[Math.Min(_options.MaxMessageBytes, 64 * 1024)];
        var message = new ArrayBufferWriter<byte>();
        while (_socket.State == WebSocketState.Open)
        {
            message.ResetWrittenCount();
            ValueWebSocketReceiveResult received;
            var skip = false;
            do
            {
                received = await _socket.ReceiveAsync(buffer.AsMemory(), cancellation);
                Interlocked.Exchange(ref _lastReceived, Environment.TickCount64);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    Close(1000, "closed by the client");
                    return;
                }

                if (skip)
                {
                    continue;
                }

                if (received.MessageType == WebSocketMessageType.Binary)
                {
                    Close(CloseUnsupported, "messages are JSON text frames");
                    skip = true;
                }
                else if (message.WrittenCount + received.Count > _options.MaxMessageBytes)
                {
                    Close(CloseTooBig, $"a message is over {_options.MaxMessageBytes} bytes (Groundwork:Gateway:MaxMessageBytes)");
                    skip = true;
                }
                else
                {
                    message.Write(buffer.AsSpan(0, received.Count));
                }
            }
            while (!received.EndOfMessage);

            // After the gateway asked to close, the client's messages are read (for its close frame) but not served.
            if (!skip && !_closing.IsCancellationRequested)
            {
                Handle(message.WrittenMemory);
            }
        }
    }

    /// <summary>One message from the client; every answer goes through the outbox.</summary>
    private void Handle(ReadOnlyMemory<byte> text)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = GatewayJson.Options.MaxDepth });
        }
        catch (JsonException)
        {
            SendError(null, Problem.InvalidRequest("message", "not JSON"));
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            var type = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            var id = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
            if (type is null)
            {
                SendError(id, Problem.InvalidRequest("type", "a message is a JSON object with a string type: subscribe, unsubscribe, call or ping"));
                return;
            }

            if (id is null or { Length: 0 or > 64 })
            {
                SendError(null, Problem.InvalidRequest("id", "every message needs a string id of 1-64 characters, which its answers carry"));
                return;
            }

            switch (type)
            {
                case "ping":
                    Send(new Dictionary<string, object?> { ["type"] = "pong", ["id"] = id });
                    break;
                case "unsubscribe":
                    Unsubscribe(id);
                    break;
                case "subscribe" or "call":
                    Start(type == "subscribe", id, root);
                    break;
                default:
                    SendError(id, Problem.InvalidRequest("type", $"'{ArgumentBinder.Echo(type)}' is not a message type: subscribe, unsubscribe, call or ping"));
                    break;
            }
        }
    }

    private void Start(bool subscribe, string id, JsonElement message)
    {
        if (!_rate.AttemptAcquire().IsAcquired)
        {
            SendError(id, new Problem(StatusCodes.Status429TooManyRequests, "rate-limited", "Rate limited",
                "This connection sent more messages than Groundwork:Gateway:RequestsPerSecond allows.")
            {
                Fields = new Dictionary<string, object?> { ["limit"] = "Gateway:RequestsPerSecond" },
            });
            return;
        }

        GatewayOperation operation;
        object?[] arguments;
        string resource;
        try
        {
            (operation, resource, arguments) = Bind(message);
        }
        catch (BindingException binding)
        {
            SendError(id, binding.Problem);
            return;
        }

        if (subscribe != (operation.Shape == ResultShape.Stream))
        {
            SendError(id, Problem.InvalidRequest("path", subscribe
                ? $"{operation.Id} is not a feed: send it as a call"
                : $"{operation.Id} is a feed: subscribe to it"));
            return;
        }

        if (subscribe)
        {
            Subscribe(id, operation, resource, arguments);
            return;
        }

        if (Interlocked.Increment(ref _calls) > _options.MaxCallsInFlight)
        {
            Interlocked.Decrement(ref _calls);
            SendError(id, Problem.LimitExceeded("Gateway:MaxCallsInFlight", _options.MaxCallsInFlight,
                $"A connection may have {_options.MaxCallsInFlight} calls in flight (Groundwork:Gateway:MaxCallsInFlight)."));
            return;
        }

        _ = CallAsync(id, operation, resource, arguments);
    }

    /// <summary>
    /// The operation a message's <c>path</c> names (the HTTP route after <c>/v1/</c>), its resource id, and its
    /// arguments from <c>args</c> (named parameters, as a POST body), <c>idempotencyKey</c> and <c>ifMatch</c>.
    /// </summary>
    private (GatewayOperation Operation, string Resource, object?[] Arguments) Bind(JsonElement message)
    {
        var path = message.TryGetProperty("path", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : null;
        var parts = path?.Split('/');
        GatewayOperation? operation = null;
        string resource = "", tenant = "";
        if (parts is [var t, var kind, var name, var alias] && _contract.Find(TargetKind.Resource, kind, alias) is { } onResource)
        {
            (operation, tenant, resource) = (onResource, t, $"{t}/{kind}/{name}");
        }
        else if (parts is [var t2, var grain, var alias2] && _contract.Find(TargetKind.Tenant, grain, alias2) is { } onTenant)
        {
            (operation, tenant, resource) = (onTenant, t2, t2);
        }

        if (operation is null)
        {
            throw new BindingException(new Problem(StatusCodes.Status404NotFound, "no-route", "No such route",
                $"'{ArgumentBinder.Echo(path ?? "")}' names no operation: a path is {{tenant}}/{{kind}}/{{name}}/{{method}} or {{tenant}}/{{grain}}/{{method}}, as in the HTTP routes after /v1/."));
        }

        GatewayEndpoints.CheckTarget(operation, tenant, resource);
        var headers = new HeaderDictionary();
        if (message.TryGetProperty("idempotencyKey", out var key))
        {
            headers["Idempotency-Key"] = key.ValueKind == JsonValueKind.String ? key.GetString() : key.GetRawText();
        }

        if (message.TryGetProperty("ifMatch", out var match))
        {
            headers["If-Match"] = match.ValueKind == JsonValueKind.String ? match.GetString() : match.GetRawText();
        }

        var body = message.TryGetProperty("args", out var args) ? JsonSerializer.SerializeToUtf8Bytes(args) : [];
        return (operation, resource, ArgumentBinder.FromBody(operation, body, headers, _closing.Token));
    }

    private async Task CallAsync(string id, GatewayOperation operation, string resource, object?[] arguments)
    {
        try
        {
            using var credential = _credential.Use();
            var task = (Task)operation.Invoke(_grains.GetGrain(operation.Interface, resource), arguments)!;
            await task;
            var result = operation.ReadResult(task);
            var answer = new Dictionary<string, object?> { ["type"] = "result", ["id"] = id, ["data"] = result };
            if (result is not null && operation.VersionOf(result) is { } version)
            {
                answer["version"] = version;
            }

            if (result is not null && operation.MutationOf(result) is { Replayed: true })
            {
                answer["replayed"] = true;
            }

            await SendAsync(answer);
        }
        catch (Exception exception) when (!_closing.IsCancellationRequested)
        {
            await FailAsync(id, exception, operation, resource);
        }
        catch (Exception exception) when (exception is OperationCanceledException or ChannelClosedException)
        {
            // The connection is closing: nobody reads the answer.
        }
        finally
        {
            Interlocked.Decrement(ref _calls);
        }
    }

    private void Subscribe(string id, GatewayOperation operation, string resource, object?[] arguments)
    {
        Subscription subscription;
        lock (_gate)
        {
            if (_subscriptions.ContainsKey(id))
            {
                SendError(id, Problem.InvalidRequest("id", "a subscription with this id is open"));
                return;
            }

            if (_subscriptions.Count >= _options.MaxSubscriptions)
            {
                SendError(id, Problem.LimitExceeded("Gateway:MaxSubscriptions", _options.MaxSubscriptions,
                    $"A connection may have {_options.MaxSubscriptions} subscriptions (Groundwork:Gateway:MaxSubscriptions)."));
                return;
            }

            subscription = new Subscription(id, CancellationTokenSource.CreateLinkedTokenSource(_closing.Token));
            _subscriptions[id] = subscription;
        }

        Send(new Dictionary<string, object?> { ["type"] = "subscribed", ["id"] = id });
        _ = PumpAsync(subscription, operation, resource, arguments);
    }

    private void Unsubscribe(string id)
    {
        Subscription? subscription;
        lock (_gate)
        {
            _subscriptions.Remove(id, out subscription);
        }

        subscription?.Stop.Cancel();
        Send(subscription is null
            ? Error(id, Problem.InvalidRequest("id", "no subscription has this id"))
            : new Dictionary<string, object?> { ["type"] = "unsubscribed", ["id"] = id });
    }

    /// <summary>Pulls one feed into the outbox: reopens after failovers and after lagging, from the last sequence sent.</summary>
    private async Task PumpAsync(Subscription subscription, GatewayOperation operation, string resource, object?[] arguments)
    {
        var cancellation = subscription.Stop.Token;
        var reopens = 0;
        var grain = _grains.GetGrain(operation.Interface, resource);
        try
        {
            using var credential = _credential.Use();
            while (!cancellation.IsCancellationRequested)
            {
                var lagging = false;
                try
                {
                    await foreach (var item in ((IAsyncEnumerable<object>)operation.Invoke(grain, arguments)!).WithCancellation(cancellation))
                    {
                        reopens = 0;
                        var sequence = (item as IChange)?.Sequence;
                        var message = Serialize(new Dictionary<string, object?> { ["type"] = "event", ["id"] = subscription.Id, ["sequence"] = sequence, ["data"] = item });
                        if (!_outbox.Writer.TryWrite(message))
                        {
                            lagging = true;
                            break; // stop pulling: the grain's feed holds what follows
                        }

                        if (sequence is { } delivered && operation.CursorIndex >= 0)
                        {
                            arguments[operation.CursorIndex] = delivered;
                        }
                    }
                }
                catch (Exception exception) when (!cancellation.IsCancellationRequested && ResourceFeed.IsTransient(exception) && reopens < _options.MaxReopens)
                {
                    reopens++;
                    await Task.Delay(EventStream.ReopenDelay(reopens), cancellation);
                    continue;
                }

                if (!lagging)
                {
                    await SendAsync(new Dictionary<string, object?> { ["type"] = "end", ["id"] = subscription.Id });
                    return;
                }

                var after = operation.CursorIndex >= 0 ? arguments[operation.CursorIndex] : null;
                await SendAsync(new Dictionary<string, object?> { ["type"] = "lagging", ["id"] = subscription.Id, ["afterSequence"] = after });
                await DrainedAsync(cancellation);
            }
        }
        catch (Exception exception) when (!cancellation.IsCancellationRequested)
        {
            await FailAsync(subscription.Id, exception, operation, resource);
        }
        catch (Exception exception) when (exception is OperationCanceledException or ChannelClosedException)
        {
            // Unsubscribed or closing.
        }
        finally
        {
            lock (_gate)
            {
                if (_subscriptions.TryGetValue(subscription.Id, out var current) && current == subscription)
                {
                    _subscriptions.Remove(subscription.Id);
                }
            }

            subscription.Stop.Dispose();
        }
    }

    /// <summary>Sends the problem an exception maps to; a refused credential then closes the connection.</summary>
    private async Task FailAsync(string id, Exception exception, GatewayOperation operation, string resource)
    {
        var problem = ProblemMapper.From(exception, operation.Segment, resource, ifMatch: false);
        if (problem is null || problem.Status == StatusCodes.Status500InternalServerError)
        {
            LogUnexpected(_logger, exception, operation.Id);
        }

        problem ??= new Problem(StatusCodes.Status500InternalServerError, "internal", "Internal error", "The gateway met an unexpected error; its log has the details.");
        var message = Error(id, problem);
        if (problem.Code == "resync-required")
        {
            message["type"] = "resync";
        }

        await SendAsync(message);
        if (problem.Status == StatusCodes.Status401Unauthorized)
        {
            Close(CloseUnauthenticated, "the connection's credential was refused");
        }
    }

    /// <summary>
    /// Sends the outbox in order, a heartbeat when it was idle for a heartbeat interval, and closes an idle connection;
    /// once the session closes, sends what is queued (until the flush deadline) and then the close frame.
    /// </summary>
    private async Task WriteLoopAsync(CancellationToken aborted)
    {
        using var flush = CancellationTokenSource.CreateLinkedTokenSource(aborted, _flushDeadline.Token);
        var cancellation = flush.Token;
        var reader = _outbox.Reader;
        try
        {
            while (true)
            {
                var ready = reader.WaitToReadAsync(cancellation).AsTask();
                while (await Task.WhenAny(ready, Task.Delay(_options.HeartbeatInterval, cancellation)) != ready)
                {
                    if (TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastReceived)) > _options.WebSocketIdleTimeout)
                    {
                        Close(CloseIdle, $"nothing received for {_options.WebSocketIdleTimeout.TotalSeconds:0} s: send a ping");
                    }
                    else
                    {
                        await _socket.SendAsync(Heartbeat, WebSocketMessageType.Text, endOfMessage: true, cancellation);
                    }
                }

                if (!await ready)
                {
                    break;
                }

                while (reader.TryRead(out var message))
                {
                    await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cancellation);
                    if (reader.Count <= _options.WebSocketOutbox / 2)
                    {
                        TaskCompletionSource drained;
                        lock (_gate)
                        {
                            drained = _drained;
                            _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        }

                        drained.TrySetResult();
                    }
                }
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived && _close is { } close)
            {
                await _socket.CloseOutputAsync((WebSocketCloseStatus)close.Code, close.Reason, cancellation);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
            // The client went away, or did not read within the flush deadline.
        }

        // A client that does not answer the close frame is dropped.
        if (_socket.State != WebSocketState.Closed)
        {
            _ = Task.Delay(TimeSpan.FromSeconds(5), aborted).ContinueWith(_ => _socket.Abort(), TaskScheduler.Default);
        }
    }

    private async Task DrainedAsync(CancellationToken cancellation)
    {
        while (_outbox.Reader.Count > _options.WebSocketOutbox / 2)
        {
            Task drained;
            lock (_gate)
            {
                drained = _drained.Task;
            }

            if (_outbox.Reader.Count <= _options.WebSocketOutbox / 2)
            {
                return;
            }

            await drained.WaitAsync(cancellation);
        }
    }

    private static readonly byte[] Heartbeat = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?> { ["type"] = "heartbeat" });

    private static byte[] Serialize(Dictionary<string, object?> message) => JsonSerializer.SerializeToUtf8Bytes(message, GatewayJson.Options);

    private static Dictionary<string, object?> Error(string? id, Problem problem) =>
        new() { ["type"] = "error", ["id"] = id, ["problem"] = problem.ToJson() };

    /// <summary>Queues a message that must arrive (answers, control): waits for room, which holds back only its sender.</summary>
    private ValueTask SendAsync(Dictionary<string, object?> message) => _outbox.Writer.WriteAsync(Serialize(message), _closing.Token);

    /// <summary>Queues an answer from the read loop; when the outbox is full the client is not reading: close.</summary>
    private void Send(Dictionary<string, object?> message)
    {
        if (!_outbox.Writer.TryWrite(Serialize(message)) && !_closing.IsCancellationRequested)
        {
            Close(1008, "the client does not read its messages");
        }
    }

    private void SendError(string? id, Problem problem) => Send(Error(id, problem));

    /// <summary>Closes the session once (the first reason wins): stops feeds and calls, and lets the writer flush and close.</summary>
    private void Close(int code, string reason)
    {
        lock (_gate)
        {
            if (_close is not null)
            {
                return;
            }

            _close = (code, reason);
            foreach (var subscription in _subscriptions.Values)
            {
                subscription.Stop.Cancel();
            }
        }

        _closing.Cancel();
        _outbox.Writer.TryComplete();
        _flushDeadline.CancelAfter(TimeSpan.FromSeconds(5));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _rate.Dispose();
        _closing.Dispose();
        _flushDeadline.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure of {Operation} over the WebSocket")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string operation);

    private sealed record Subscription(string Id, CancellationTokenSource Stop);
}

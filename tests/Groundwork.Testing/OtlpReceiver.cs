using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Groundwork.Testing;

/// <summary>One span as an OTLP receiver saw it.</summary>
/// <param name="TraceId">Hex trace id.</param>
/// <param name="SpanId">Hex span id.</param>
/// <param name="ParentSpanId">Hex parent span id; empty for a root span.</param>
/// <param name="Name">The span name.</param>
/// <param name="Kind">OTLP span kind (1 internal, 2 server, 3 client, 4 producer, 5 consumer).</param>
/// <param name="Service">The <c>service.name</c> of the resource that sent it.</param>
/// <param name="Scope">The instrumentation scope (activity source) name.</param>
public sealed record ReceivedSpan(string TraceId, string SpanId, string ParentSpanId, string Name, int Kind, string Service, string Scope)
{
    /// <summary>The <c>service.instance.id</c> of the resource that sent it.</summary>
    public string Instance { get; init; } = "";
}

/// <summary>One log record as an OTLP receiver saw it (ids in hex, empty when the record has none).</summary>
public sealed record ReceivedLog(string TraceId, string SpanId, string Body, string Service);

/// <summary>
/// An OTLP/HTTP (protobuf) receiver on a free loopback port: keeps every request body by signal path and decodes
/// the spans of <c>/v1/traces</c> (a few fields of the OTLP protobuf, read by hand: no generated code needed).
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _receiving;
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private readonly ConcurrentQueue<ReceivedLog> _logs = new();
    private readonly ConcurrentDictionary<string, int> _requests = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ConcurrentDictionary<(string Path, string Service), int> _senders = new();

    private OtlpReceiver(int port)
    {
        Port = port;
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _receiving = Task.Run(ReceiveAsync);
    }

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    /// <summary>The value for <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.</summary>
    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>Every span received so far.</summary>
    public IReadOnlyList<ReceivedSpan> Spans => [.. _spans];

    /// <summary>Every log record received so far.</summary>
    public IReadOnlyList<ReceivedLog> Logs => [.. _logs];

    /// <summary>How many requests arrived per path (<c>/v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c>).</summary>
    public IReadOnlyDictionary<string, int> Requests => new Dictionary<string, int>(_requests);

    /// <summary>The <c>service.name</c>s that sent requests to <paramref name="path"/> (for example <c>/v1/metrics</c>).</summary>
    public IReadOnlySet<string> Senders(string path) => _senders.Keys.Where(k => k.Path == path).Select(k => k.Service).ToHashSet();

    /// <summary>Bodies that could not be decoded (should stay empty).</summary>
    public IReadOnlyList<string> Errors => [.. _errors];

    /// <summary>The environment that points a process's OTLP exporter here, with short export delays.</summary>
    public IReadOnlyDictionary<string, string> Environment(string? serviceName = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
        };
        if (serviceName is not null)
        {
            environment["OTEL_SERVICE_NAME"] = serviceName;
        }

        return environment;
    }

    /// <summary>Starts a receiver on a free port.</summary>
    public static OtlpReceiver Start() => new(SiloProcess.FreePort());

    /// <summary>Waits until <paramref name="condition"/> holds over the received spans.</summary>
    public async Task<IReadOnlyList<ReceivedSpan>> WaitForSpansAsync(Func<IReadOnlyList<ReceivedSpan>, bool> condition, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            var spans = Spans;
            if (condition(spans))
            {
                return spans;
            }

            if (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"The spans awaited did not arrive within {timeout}. Received {spans.Count}:\n" +
                    string.Join("\n", spans.Select(s => $"{s.Service} {s.Scope} {s.Name} {s.TraceId}/{s.SpanId} <- {s.ParentSpanId}")));
            }

            await Task.Delay(100, CancellationToken.None);
        }
    }

    private async Task ReceiveAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                var path = context.Request.Url!.AbsolutePath;
                _requests.AddOrUpdate(path, 1, (_, n) => n + 1);
                foreach (var service in Services(body.ToArray()))
                {
                    _senders.AddOrUpdate((path, service), 1, (_, n) => n + 1);
                }

                if (path == "/v1/traces")
                {
                    foreach (var span in DecodeTraces(body.ToArray()))
                    {
                        _spans.Enqueue(span);
                    }
                }
                else if (path == "/v1/logs")
                {
                    foreach (var log in DecodeLogs(body.ToArray()))
                    {
                        _logs.Enqueue(log);
                    }
                }

                context.Response.StatusCode = 200;
            }
            catch (Exception e) when (e is FormatException or IOException or HttpListenerException)
            {
                _errors.Enqueue(e.Message);
                context.Response.StatusCode = 400;
            }

            context.Response.Close();
        }
    }

    /// <summary>The service names of an export request of any signal: resource_*(1) → resource(1) → attributes.</summary>
    public static IEnumerable<string> Services(byte[] request) =>
        Fields(request).Where(f => f.Field == 1)
            .SelectMany(f => Fields(f.Value).Where(r => r.Field == 1))
            .Select(r => ResourceAttribute(r.Value, "service.name") ?? "")
            .Distinct()
            .ToList();

    /// <summary>Decodes an <c>ExportTraceServiceRequest</c>: resource_spans(1) → resource(1), scope_spans(2) → scope(1), spans(2).</summary>
    public static IEnumerable<ReceivedSpan> DecodeTraces(byte[] request)
    {
        var spans = new List<ReceivedSpan>();
        foreach (var (field, resourceSpans) in Fields(request))
        {
            if (field != 1)
            {
                continue;
            }

            var service = "";
            var instance = "";
            var scopes = new List<byte[]>();
            foreach (var (f, value) in Fields(resourceSpans))
            {
                if (f == 1)
                {
                    service = ResourceAttribute(value, "service.name") ?? "";
                    instance = ResourceAttribute(value, "service.instance.id") ?? "";
                }
                else if (f == 2)
                {
                    scopes.Add(value);
                }
            }

            foreach (var scopeSpans in scopes)
            {
                var scope = "";
                foreach (var (f, value) in Fields(scopeSpans))
                {
                    if (f == 1)
                    {
                        scope = Fields(value).Where(x => x.Field == 1).Select(x => Encoding.UTF8.GetString(x.Value)).FirstOrDefault() ?? "";
                    }
                    else if (f == 2)
                    {
                        spans.Add(DecodeSpan(value, service, scope) with { Instance = instance });
                    }
                }
            }
        }

        return spans;
    }

    /// <summary>Decodes an <c>ExportLogsServiceRequest</c>: resource_logs(1) → resource(1), scope_logs(2) → log_records(2) → body(5), trace_id(9), span_id(10).</summary>
    public static IEnumerable<ReceivedLog> DecodeLogs(byte[] request)
    {
        var logs = new List<ReceivedLog>();
        foreach (var resourceLogs in Fields(request).Where(f => f.Field == 1).Select(f => f.Value))
        {
            var fields = Fields(resourceLogs).ToList();
            var service = fields.Where(f => f.Field == 1).Select(f => ResourceAttribute(f.Value, "service.name")).FirstOrDefault() ?? "";
            foreach (var scopeLogs in fields.Where(f => f.Field == 2).Select(f => f.Value))
            {
                foreach (var record in Fields(scopeLogs).Where(f => f.Field == 2).Select(f => f.Value))
                {
                    string traceId = "", spanId = "", body = "";
                    foreach (var (field, value) in Fields(record))
                    {
                        switch (field)
                        {
                            case 5: body = Fields(value).Where(v => v.Field == 1).Select(v => Encoding.UTF8.GetString(v.Value)).FirstOrDefault() ?? ""; break;
                            case 9: traceId = Convert.ToHexStringLower(value); break;
                            case 10: spanId = Convert.ToHexStringLower(value); break;
                            default: break;
                        }
                    }

                    logs.Add(new ReceivedLog(traceId, spanId, body, service));
                }
            }
        }

        return logs;
    }

    private static ReceivedSpan DecodeSpan(byte[] span, string service, string scope)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var kind = 0;
        foreach (var (field, value) in Fields(span))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexStringLower(value); break;
                case 2: spanId = Convert.ToHexStringLower(value); break;
                case 4: parent = Convert.ToHexStringLower(value); break;
                case 5: name = Encoding.UTF8.GetString(value); break;
                case 6: kind = (int)ReadVarint(value, 0, out _); break;
                default: break;
            }
        }

        return new ReceivedSpan(traceId, spanId, parent, name, kind, service, scope);
    }

    private static string? ResourceAttribute(byte[] resource, string key)
    {
        foreach (var (field, keyValue) in Fields(resource))
        {
            if (field != 1)
            {
                continue;
            }

            var pairs = Fields(keyValue).ToList();
            if (pairs.FirstOrDefault(p => p.Field == 1).Value is { } k && Encoding.UTF8.GetString(k) == key &&
                pairs.FirstOrDefault(p => p.Field == 2).Value is { } anyValue)
            {
                return Fields(anyValue).Where(p => p.Field == 1).Select(p => Encoding.UTF8.GetString(p.Value)).FirstOrDefault();
            }
        }

        return null;
    }

    /// <summary>The fields of one protobuf message; varints come back as their encoded bytes, fixed fields as raw bytes.</summary>
    private static IEnumerable<(int Field, byte[] Value)> Fields(byte[] message)
    {
        var position = 0;
        var fields = new List<(int, byte[])>();
        while (position < message.Length)
        {
            var tag = ReadVarint(message, position, out position);
            var field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    var start = position;
                    ReadVarint(message, position, out position);
                    fields.Add((field, message[start..position]));
                    break;
                case 1:
                    fields.Add((field, Slice(message, ref position, 8)));
                    break;
                case 2:
                    var length = (int)ReadVarint(message, position, out position);
                    fields.Add((field, Slice(message, ref position, length)));
                    break;
                case 5:
                    fields.Add((field, Slice(message, ref position, 4)));
                    break;
                default:
                    throw new FormatException($"unsupported protobuf wire type {tag & 7}");
            }
        }

        return fields;
    }

    private static byte[] Slice(byte[] message, ref int position, int length)
    {
        if (length < 0 || position + length > message.Length)
        {
            throw new FormatException("truncated protobuf field");
        }

        var value = message[position..(position + length)];
        position += length;
        return value;
    }

    private static ulong ReadVarint(byte[] message, int position, out int next)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= message.Length)
            {
                throw new FormatException("truncated varint");
            }

            var b = message[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                next = position;
                return value;
            }
        }

        throw new FormatException("varint too long");
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _receiving;
        _listener.Close();
    }
}

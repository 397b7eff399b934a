using System.Net;
using Groundwork.Lists;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Silo.Tests;

public sealed class EmbeddedSiloTests(EmbeddedSiloFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<EmbeddedSiloFixture>
{
    private SiloProcess Silo => fixture.Silo;

    [Fact]
    [Trait("Category", "Slo")]
    public void The_silo_is_ready_within_15_seconds_of_starting()
    {
        output.WriteLine($"SLO ready within 15 s: ready after {fixture.TimeToReady.TotalSeconds:F2} s, margin {(TimeSpan.FromSeconds(15) - fixture.TimeToReady).TotalSeconds:F2} s");
        Assert.True(fixture.TimeToReady < TimeSpan.FromSeconds(15), $"ready after {fixture.TimeToReady}");
    }

    [Fact]
    public async Task Liveness_and_readiness_answer_200_while_the_silo_is_active()
    {
        using var http = new HttpClient { BaseAddress = Silo.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task The_silo_serves_the_gateways_openapi_document_and_its_docs_page_without_a_key()
    {
        using var http = new HttpClient { BaseAddress = Silo.BaseAddress };
        using var document = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)));
        Assert.StartsWith("3.1", document.RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        Assert.True(document.RootElement.GetProperty("paths").TryGetProperty("/v1/{tenant}/list/{name}/get", out _));
        using var docs = await http.GetAsync(new Uri("/docs/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.Contains("openapi/v1.json", await docs.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_are_served_in_prometheus_text_with_orleans_series()
    {
        using var http = new HttpClient { BaseAddress = Silo.BaseAddress };
        var text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("# TYPE orleans_", text, StringComparison.Ordinal);
        Assert.Contains("\norleans_", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_orleans_dashboard_is_served_at_dashboard_to_the_operator_key_only()
    {
        using var anonymous = new HttpClient { BaseAddress = Silo.BaseAddress };
        using (var refused = await anonymous.GetAsync(new Uri("/dashboard/", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("Basic realm=\"Groundwork\", charset=\"UTF-8\"", refused.Headers.WwwAuthenticate.ToString());
        }

        using var operatorHttp = new HttpClient { BaseAddress = Silo.BaseAddress };
        operatorHttp.DefaultRequestHeaders.Authorization = DashboardCredential.Basic(Silo.OperatorKey);
        using var response = await operatorHttp.GetAsync(new Uri("/dashboard/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("html", (await response.Content.ReadAsStringAsync()).ToLowerInvariant(), StringComparison.Ordinal);

        // Its data comes from Orleans' grains, which the access filter keeps for silo code and the operator:
        // the dashboard's own calls must be let through. Its collector fills in the hosts shortly after start.
        Assert.Contains("\"status\":\"Active\"", await DashboardCountersAsync(operatorHttp), StringComparison.Ordinal);
    }

    /// <summary>The dashboard's counters once its collector (a grain timer) has filled in the hosts, or after 20 s.</summary>
    private static async Task<string> DashboardCountersAsync(HttpClient operatorHttp)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var counters = "";
        while (!counters.Contains("\"status\":\"Active\"", StringComparison.Ordinal) && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            counters = await operatorHttp.GetStringAsync(new Uri("/dashboard/DashboardCounters", UriKind.Relative));
            await Task.Delay(100);
        }

        return counters;
    }

    [Fact]
    public void The_silo_generated_an_operator_key_under_data_readable_only_by_its_user()
    {
        var path = Path.Combine(Silo.Folder, "data", "operator.key");
        Assert.StartsWith("gwo_", Silo.OperatorKey, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Contains(path, Silo.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Silo.Folder, "data", "groundwork.db")));
    }

    /// <summary>A new tenant, created with the operator key, and a client connected with its owner's key.</summary>
    private async Task<(string TenantId, GroundworkClientHost Owner)> NewTenantAsync()
    {
        await using var operatorClient = await GroundworkClientHost.ConnectAsync(Silo.GatewayPort, Silo.OperatorKey);
        var tenantId = "t-" + Guid.NewGuid().ToString("n")[..8];
        var owner = await Groundwork.Tenants.TenantGrainFactoryExtensions.GetTenant(operatorClient.Client, tenantId).CreateAsync("Acme", "ann");
        return (tenantId, await GroundworkClientHost.ConnectAsync(Silo.GatewayPort, owner.Key));
    }

    [Fact]
    public async Task A_program_using_Groundwork_Client_creates_a_tenant_and_a_list_and_watches_it()
    {
        var (tenantId, app) = await NewTenantAsync();
        await using var _ = app;
        var list = app.Client.GetList($"{tenantId}/list/groceries");
        await list.CreateAsync("Groceries");
        await using var feed = Groundwork.Client.ListFeed.WatchListAsync(app.Client, $"{tenantId}/list/groceries", 0).GetAsyncEnumerator();
        await list.AddItemAsync(new NewItem("milk"));
        var changes = await feed.TakeAsync(2);
        Assert.Equal([ListChangeKind.ListCreated, ListChangeKind.ItemAdded], changes.Select(c => c.Kind));
        Assert.Equal("milk", (await list.GetAsync()).Items.Single().Title);
    }

    [Fact]
    public async Task Activating_many_lists_logs_no_line_per_activation_at_the_default_level()
    {
        var (tenantId, app) = await NewTenantAsync();
        await using var _ = app;

        const int Lists = 300;
        var (outputBefore, errorsBefore) = (Silo.Output.Length, Silo.Errors.Length);
        await Parallel.ForEachAsync(Enumerable.Range(0, Lists), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var list = app.Client.GetList($"{tenantId}/list/l{i}");
            await list.CreateAsync($"List {i}");
            await list.GetAsync();
        });

        // Let any line the activations cause reach the captured output.
        await Task.Delay(500);
        var lines = Silo.Output[outputBefore..].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Concat(Silo.Errors[errorsBefore..].Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
        output.WriteLine($"{lines.Count} lines logged while {Lists} lists were created and read");
        Assert.True(lines.Count < Lists / 10, $"{lines.Count} lines logged while {Lists} lists were created and read, the first ones:\n{string.Join('\n', lines.Take(12))}");
    }

    [Fact]
    public async Task The_dashboards_timer_passes_the_access_filter()
    {
        // The Orleans dashboard's collector is a grain timer; the filter lets it through as the runtime-internal call
        // it is. Once the collector has run (the hosts are filled in), no refusal of it is logged.
        using var operatorHttp = new HttpClient { BaseAddress = Silo.BaseAddress };
        operatorHttp.DefaultRequestHeaders.Authorization = DashboardCredential.Basic(Silo.OperatorKey);
        Assert.Contains("\"status\":\"Active\"", await DashboardCountersAsync(operatorHttp), StringComparison.Ordinal);
        Assert.DoesNotContain(Silo.Output.Split('\n').Concat(Silo.Errors.Split('\n')), line => line.Contains("IGrainTimerInvoker", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_readme_example_runs_against_the_silo_and_sees_its_changes_in_the_feed()
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(SiloProcess.BuiltAssemblyPath(Path.Combine("client", "Groundwork.Example"), "Groundwork.Example.dll"));
        info.ArgumentList.Add(Path.Combine(Silo.Folder, "data", "operator.key"));
        info.ArgumentList.Add("ex-" + Guid.NewGuid().ToString("n")[..8]);
        info.Environment["Orleans__Endpoints__GatewayPort"] = Silo.GatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        using var example = System.Diagnostics.Process.Start(info)!;
        var output = example.StandardOutput.ReadToEndAsync();
        var errors = example.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await example.WaitForExitAsync(deadline.Token);
        Assert.True(example.ExitCode == 0, $"exit {example.ExitCode}: {await errors}");
        var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["1: ListCreated Groceries", "2: ItemAdded milk", "3: ItemAdded bread"], lines.Where(l => l.Length > 0 && char.IsDigit(l[0])));
    }
}

using System.Net;
using Groundwork.Lists;
using Groundwork.Tenants;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Silo.Tests;

public sealed class SiloLifecycleTests
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Sigterm_stops_the_silo_cleanly_and_a_restart_keeps_the_data_and_the_client_reconnects()
    {
        var silo = SiloProcess.Start();
        try
        {
            await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
            string ownerKey;
            var listKey = "";
            await using (var operatorClient = await GroundworkClientHost.ConnectAsync(silo.GatewayPort, silo.OperatorKey))
            {
                var tenant = "t-" + Guid.NewGuid().ToString("n")[..8];
                ownerKey = (await operatorClient.Client.GetTenant(tenant).CreateAsync("Durable", "dora")).Key;
                listKey = $"{tenant}/list/kept";
            }

            // One client for the whole test: it must find the silo again after the restart by itself.
            await using var app = await GroundworkClientHost.ConnectAsync(silo.GatewayPort, ownerKey);
            await app.Client.GetList(listKey).CreateAsync("Kept");
            var version = (await app.Client.GetList(listKey).AddItemAsync(new NewItem("written before the stop"))).Version;

            Assert.Equal(0, await silo.StopAsync(StopTimeout));
            Assert.Contains("Orleans Silo stopped", silo.Output, StringComparison.Ordinal);
            var folder = silo.Folder;
            var (httpPort, gatewayPort) = (silo.HttpPort, silo.GatewayPort);
            await silo.DisposeAsync();

            silo = SiloProcess.Start(folder, httpPort: httpPort, gatewayPort: gatewayPort);
            await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
            var snapshot = await EventuallyAsync(() => app.Client.GetList(listKey).GetAsync(), TimeSpan.FromSeconds(60));
            Assert.Equal(version, snapshot.Version);
            Assert.Equal("written before the stop", snapshot.Items.Single().Title);
            Assert.Equal(0, await silo.StopAsync(StopTimeout));
        }
        finally
        {
            await silo.DisposeAsync();
        }
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> call, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception exception) when (Groundwork.Client.ListFeed.IsTransient(exception) && !deadline.IsCancellationRequested)
            {
                await Task.Delay(200, deadline.Token);
            }
        }
    }

    [Fact]
    public async Task Readiness_turns_503_once_the_silo_starts_stopping()
    {
        await using var silo = SiloProcess.Start();
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = silo.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        await silo.SendSigtermAsync();
        var sawUnavailable = false;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!deadline.IsCancellationRequested && silo.ExitCode is null)
        {
            try
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), deadline.Token);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    sawUnavailable = true;
                    break;
                }
            }
            catch (HttpRequestException)
            {
                break;
            }
            catch (TaskCanceledException) when (!deadline.IsCancellationRequested)
            {
                // One slow answer while the host stops: ask again.
            }
        }

        Assert.Equal(0, await silo.WaitForExitAsync(StopTimeout));
        Assert.True(sawUnavailable, "readiness never answered 503 between SIGTERM and the end of the process");
    }
}

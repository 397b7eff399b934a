using System.Diagnostics;
using System.Globalization;
using Groundwork.Access;
using Groundwork.Chat;
using Groundwork.Client;
using Groundwork.Tenants;
using Groundwork.Testing;
using Xunit;

namespace Groundwork.Silo.Tests;

/// <summary>
/// The terminal chat end to end: the built program in a real tmux, against a real silo process, read from the screen
/// with capture-pane and typed into with send-keys, while a second member uses the SDK.
/// </summary>
public sealed class ChatTerminalTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_terminal_chat_posts_shows_others_live_survives_a_silo_restart_and_its_death_shows_offline()
    {
        var environment = new Dictionary<string, string>
        {
            ["Groundwork__Chat__PresenceTimeout"] = "00:00:05",
            ["Groundwork__Chat__TypingTimeout"] = "00:00:03",
        };
        var silo = SiloProcess.Start(environment: environment);
        await using var _ = silo;
        await silo.WaitReadyAsync(TimeSpan.FromSeconds(60));
        var tenant = "chat" + Guid.NewGuid().ToString("n")[..8];
        string annKey, bobKey;
        await using (var op = await GroundworkClientHost.ConnectAsync(silo.GatewayPort, silo.OperatorKey))
        {
            annKey = (await op.Client.GetTenant(tenant).CreateAsync("Chat test", owner: "ann")).Key;
            using (GroundworkCredentials.Use(annKey))
            {
                await op.Client.GetTenant(tenant).SetMemberAsync("bob", TenantRole.Member);
                bobKey = (await op.Client.GetTenant(tenant).IssueKeyAsync("bob", KeyScope.Standard)).Key;
                await op.Client.GetChannel($"{tenant}/channel/general").CreateAsync(new NewChannel("general", "the first"));
                await op.Client.GetChannel($"{tenant}/channel/random").CreateAsync(new NewChannel("random"));
            }
        }

        var keyFile = Path.Combine(silo.Folder, "ann.key");
        await File.WriteAllTextAsync(keyFile, annKey);
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using var bob = await GroundworkClientHost.ConnectAsync(silo.GatewayPort, bobKey);
        var general = bob.Client.GetChannel($"{tenant}/channel/general");
        var random = bob.Client.GetChannel($"{tenant}/channel/random");
        await general.JoinAsync();
        await random.JoinAsync();

        await using var tmux = new Tmux();
        var chat = SiloProcess.BuiltAssemblyPath(Path.Combine("client", "Groundwork.Chat"), "Groundwork.Chat.dll");
        await tmux.StartAsync($"exec env Orleans__Endpoints__GatewayPort={silo.GatewayPort} dotnet {chat} --channel general --key-file {keyFile}");
        await tmux.WaitForAsync(s => s.Contains("#general · the first", StringComparison.Ordinal));

        // Typing in the terminal posts; the SDK sees the message once.
        await tmux.TypeAsync("hello from ann");
        await tmux.WaitForAsync(s => s.Contains("ann hello from ann", StringComparison.Ordinal));
        Assert.Single((await general.GetHistoryAsync()).Messages, m => m.Text == "hello from ann");

        // Another member's post, typing, reaction and the unread count of another channel show up live.
        var hi = await general.PostAsync(new NewMessage("hi ann"));
        await general.TypingAsync();
        await general.ReactAsync(hi.Version, "+1");
        await random.PostAsync(new NewMessage("over here"));
        await tmux.WaitForAsync(s => s.Contains("bob hi ann +1×1", StringComparison.Ordinal) && s.Contains("bob typing...", StringComparison.Ordinal));
        await tmux.TypeAsync($"/reply {hi.Version} welcome back");
        await tmux.WaitForAsync(s => s.Contains("(1 reply)", StringComparison.Ordinal) && s.Contains("#random (1)", StringComparison.Ordinal));
        Assert.Equal(hi.Version, (await general.GetThreadAsync(hi.Version)).Messages.Single().Root);
        await tmux.TypeAsync("/frobnicate");
        await tmux.WaitForAsync(s => s.Contains("/reply N text", StringComparison.Ordinal));

        // The silo restarts on its data; the chat reconnects and misses nothing, repeats nothing.
        Assert.Equal(0, await silo.StopAsync(TimeSpan.FromSeconds(30)));
        var again = SiloProcess.Start(silo.Folder, environment, silo.HttpPort, silo.GatewayPort);
        await using var __ = again;
        await again.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await RetryAsync(() => general.PostAsync(new NewMessage("after the restart")));
        await tmux.WaitForAsync(s => s.Contains("bob after the restart", StringComparison.Ordinal));
        var screen = await tmux.CaptureAsync();
        Assert.Equal(1, Occurrences(screen, "hello from ann"));
        Assert.Equal(1, Occurrences(screen, "after the restart"));
        await tmux.TypeAsync("still here");
        await tmux.WaitForAsync(s => s.Contains("ann still here", StringComparison.Ordinal));

        // Killed with -9 while typing: its typing ends by itself (3 s here, 10 s by default) and the member shows offline
        // once the heartbeats stop (5 s here, 100 s by default). No goodbye is sent.
        var presence = bob.Client.GetPresence(tenant);
        await WaitUntilAsync(async () => (await presence.GetAsync(["ann"]))[0].Status == PresenceStatus.Online);
        await using var live = general.WatchLiveAsync().GetAsyncEnumerator();
        await live.TakeAsync(1);
        await tmux.TypeAsync("half a thought", enter: false);
        Assert.Equal("ann", (await live.TakeAsync(1))[0].Typing.Single().Principal);
        await tmux.KillProgramAsync();
        var killed = Stopwatch.StartNew();
        Assert.Empty((await live.TakeAsync(1))[0].Typing);
        Assert.InRange(killed.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(3 + 2));
        await WaitUntilAsync(async () => (await presence.GetAsync(["ann"]))[0].Status == PresenceStatus.Offline);
        Assert.InRange(killed.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5 + 5));
    }

    private static int Occurrences(string text, string part) => (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;

    private static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            await Task.Delay(100);
        }
    }

    /// <summary>A tmux server of the test's own (its own socket), with one pane of 140 x 40.</summary>
    private sealed class Tmux : IAsyncDisposable
    {
        private readonly string _socket = "gw-chat-" + Guid.NewGuid().ToString("n")[..8];

        /// <summary>Starts the pane; if its program ends, the pane stays, showing what it printed.</summary>
        public async Task StartAsync(string command)
        {
            await RunAsync("new-session", "-d", "-x", "140", "-y", "40", "-s", "chat");
            await RunAsync("set-option", "-t", "chat", "remain-on-exit", "on");
            await RunAsync("respawn-pane", "-k", "-t", "chat", command);
        }

        public async Task TypeAsync(string line, bool enter = true)
        {
            await RunAsync("send-keys", "-t", "chat", "-l", line);
            if (enter)
            {
                await RunAsync("send-keys", "-t", "chat", "Enter");
            }
        }

        public Task<string> CaptureAsync() => RunAsync("capture-pane", "-p", "-t", "chat");

        public async Task WaitForAsync(Func<string, bool> condition)
        {
            var deadline = DateTime.UtcNow + Patience;
            var screen = "";
            while (DateTime.UtcNow < deadline)
            {
                screen = await CaptureAsync();
                if (condition(screen))
                {
                    return;
                }

                await Task.Delay(100);
            }

            Assert.Fail($"the screen did not show what was expected within {Patience}:\n{screen}");
        }

        /// <summary>kill -9 of the chat program (the pane's process: the command was exec'ed).</summary>
        public async Task KillProgramAsync()
        {
            var pid = int.Parse((await RunAsync("display-message", "-p", "-t", "chat", "#{pane_pid}")).Trim(), CultureInfo.InvariantCulture);
            using var kill = Process.Start("kill", ["-KILL", pid.ToString(CultureInfo.InvariantCulture)])!;
            await kill.WaitForExitAsync();
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await RunAsync("kill-server");
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        private async Task<string> RunAsync(params string[] arguments)
        {
            var info = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add("-L");
            info.ArgumentList.Add(_socket);
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            Process process;
            try
            {
                process = Process.Start(info)!;
            }
            catch (System.ComponentModel.Win32Exception missing)
            {
                throw new InvalidOperationException("tmux is missing: install it (apt-get install tmux; .ci/run does)", missing);
            }

            using (process)
            {
                var output = await process.StandardOutput.ReadToEndAsync();
                var errors = await process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync();
                return process.ExitCode == 0 ? output : throw new InvalidOperationException($"tmux {string.Join(' ', arguments)}: {errors}");
            }
        }
    }
}

using System.Text;
using Groundwork.Chat;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Groundwork.ChatProduct;

/// <summary>The terminal: the session drawn whenever it changes, and the line being typed.</summary>
internal sealed class ChatScreen(ChatSession session)
{
    private readonly StringBuilder _input = new();
    private volatile bool _dirty = true;

    public async Task RunAsync(CancellationToken stop)
    {
        session.Changed += () => _dirty = true;
        await AnsiConsole.Live(Draw()).AutoClear(false).StartAsync(async live =>
        {
            while (!stop.IsCancellationRequested)
            {
                while (Console.KeyAvailable)
                {
                    var key = Console.ReadKey(intercept: true);
                    if (key.Key == ConsoleKey.Enter)
                    {
                        var line = _input.ToString();
                        _input.Clear();
                        if (!await session.ExecuteAsync(ChatSession.Parse(line)))
                        {
                            return;
                        }
                    }
                    else if (key.Key == ConsoleKey.Backspace && _input.Length > 0)
                    {
                        _input.Length--;
                    }
                    else if (!char.IsControl(key.KeyChar))
                    {
                        _input.Append(key.KeyChar);
                        await session.KeyTypedAsync();
                    }

                    _dirty = true;
                }

                if (_dirty)
                {
                    _dirty = false;
                    live.UpdateTarget(Draw());
                }

                await Task.Delay(30, stop).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        });
    }

    private Rows Draw()
    {
        var online = session.Presence.Where(p => p.Value != PresenceStatus.Offline)
            .Select(p => p.Value == PresenceStatus.Online ? $"[green]{Markup.Escape(p.Key)}[/]" : $"[grey]{Markup.Escape(p.Key)}[/]");
        var lines = new List<IRenderable> { new Markup($"[bold]{Markup.Escape(session.Title)}[/]   online: {string.Join(", ", online)}") };
        var height = Math.Max(5, (Console.IsOutputRedirected ? 40 : Console.WindowHeight) - 8);
        foreach (var m in session.Messages.Values.TakeLast(height))
        {
            var text = m.Deleted is not null ? "[grey](deleted)[/]" : Markup.Escape(m.Text) + (m.Edits > 0 ? " [grey](edited)[/]" : "");
            var extras = string.Concat(m.Reactions.Select(r => $" {r.Key}×{r.Count}"));
            var thread = m.Thread is { Replies: > 0 } t ? $" [blue]({t.Replies} repl{(t.Replies == 1 ? "y" : "ies")})[/]" : "";
            var indent = m.Root is { } root ? $"  ↳ [[{root}]] " : "";
            lines.Add(new Markup($"{indent}[grey][[{m.Sequence}]][/] [yellow]{Markup.Escape(m.Author)}[/] {text}{Markup.Escape(extras)}{thread}"));
        }

        var typing = session.Typing.Count > 0 ? $"[italic]{Markup.Escape(string.Join(", ", session.Typing.Select(t => t.Principal)))} typing...[/]" : " ";
        var others = string.Join("  ", session.Others.Select(o =>
            $"{Markup.Escape(o.Name.Length > 0 ? "#" + o.Name : "dm")} ({o.Unread}{(o.MoreUnread ? "+" : "")}{(o.Mentions > 0 ? $", {o.Mentions} @" : "")})"));
        lines.Add(new Markup(typing));
        lines.Add(new Markup($"[grey]other channels: {others}[/]"));
        lines.Add(new Markup($"[red]{Markup.Escape(session.Notice)}[/]"));
        lines.Add(new Markup($"> {Markup.Escape(_input.ToString())}_"));
        return new Rows(lines);
    }
}

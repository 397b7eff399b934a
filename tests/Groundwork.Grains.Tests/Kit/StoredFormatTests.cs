using System.Text;
using System.Text.Json;
using Groundwork.Access;
using Groundwork.Chat;
using Groundwork.Grains.Chat;
using Groundwork.Grains.Lists;
using Groundwork.Grains.Resources;
using Groundwork.Grains.Storage;
using Groundwork.Lists;
using Xunit;

namespace Groundwork.Grains.Tests.Kit;

/// <summary>
/// The stored JSON of a list (head, item page, feed entry, operation record) and of a channel (head, pages, index,
/// threads, versions, members) is a schema: JSON binds by name, so a
/// renamed property strands stored data. This golden file guards it; change it only with a migration.
/// </summary>
public sealed class StoredFormatTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    [Fact]
    public void The_stored_json_of_a_list_matches_the_golden_file()
    {
        var serializer = new JsonStateSerializer();
        var item = new ListItem("i1", "Milk", "2 litres", false, "ann", new DateOnly(2026, 12, 24));
        var head = new ListHead
        {
            Created = true,
            CreatedAt = At,
            Version = 2,
            Access = new AccessList("ann", ["bob"], ["cy"], TenantReadable: false),
            Listed = true,
            Title = "Groceries",
            NextItemNumber = 2,
            NextPageNumber = 2,
            Pages = ["p1"],
        };
        // The head's tail holds the newest feed entry and operation record until they are moved to their rows.
        var next = item with { Id = "i2", Title = "Bread", Notes = "", Assignee = null, Due = null };
        head.Tail =
        [
            new TailRow("feed", "0000000000000000003", serializer.ToUtf8(new ListChange(3, ListChangeKind.ItemAdded, At, "ann", next, "i2", 1))),
            new TailRow("ops", "op-2", serializer.ToUtf8(new OperationRecord("op-2", At, new MutationResult(3, "i2", 1), "add-item", "ann"))),
        ];
        var pieces = new (string Name, byte[] Json)[]
        {
            ("head", serializer.ToUtf8(head)),
            ("items/p1", serializer.ToUtf8(new ItemPage { Items = [item] })),
            ("feed/2", serializer.ToUtf8(new ListChange(2, ListChangeKind.ItemAdded, At, "ann", item, "i1", 0))),
            ("ops/op-1", serializer.ToUtf8(new OperationRecord("op-1", At, new MutationResult(2, "i1"), "add-item", "ann"))),
        };
        AssertGolden("list-stored.golden.json", pieces);
    }

    [Fact]
    public void The_stored_json_of_a_channel_matches_the_golden_file()
    {
        var serializer = new JsonStateSerializer();
        var head = new ChannelHead
        {
            Created = true,
            CreatedAt = At,
            Version = 9,
            Access = new AccessList("ann", [], [], TenantReadable: true),
            Listed = true,
            Name = "general",
            Topic = "all things",
            Posted = 5,
            Pages = 2,
            OpenFirst = 8,
            IndexSpan = 256,
            IndexStarts = [3],
            LastMessage = 9,
            LastMessageAt = At,
            Pins = [3],
            ChannelMentions = [new ChannelMention(9, "ann")],
            MemberCount = 2,
        };
        var reply = new StoredMessage(5, "bob", At, "yes", Root: 3, Reactions: [new StoredReaction("👍", ["ann"])]);
        var root = new StoredMessage(3, "ann", At, "question?", "{\"k\":1}", ["bob"], false, [new Attachment("a.png", "blob/1", "image/png", 10)],
            ThreadTotal: 1, Replies: 1, LastReplyAt: At, Participants: ["bob"], Edits: 1, EditedAt: At, Pinned: true);
        var tombstone = new StoredMessage(6, "bob", At, "", DeletedBy: "ann", DeletedAt: At);
        var pieces = new (string Name, byte[] Json)[]
        {
            ("head", serializer.ToUtf8(head)),
            ("msgs/m0", serializer.ToUtf8(new MessageChunk { Items = [root, reply, tombstone] })),
            ("index/x0", serializer.ToUtf8(new IndexChunk { Pages = [new PageEntry(3, 6, 2, 1)] })),
            ("threads/t3.0", serializer.ToUtf8(new ThreadChunk { Replies = [5] })),
            ("versions/v3", serializer.ToUtf8(new VersionChunk { Versions = [new MessageVersion(0, "question", At)] })),
            ("members/b7", serializer.ToUtf8(new MemberBucket
            {
                Members = { ["ann"] = new MemberState { Role = ChannelRole.Owner, JoinedAt = At, Read = 9, Mentions = [5] } },
            })),
        };
        AssertGolden("channel-stored.golden.json", pieces);
    }

    private static void AssertGolden(string file, (string Name, byte[] Json)[] pieces)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", file);
        var actual = new StringBuilder();
        foreach (var (name, json) in pieces)
        {
            actual.Append(name).Append(": ").AppendLine(JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement, Indented));
        }

        var text = actual.ToString().ReplaceLineEndings("\n");
        if (!File.Exists(path) || File.ReadAllText(path).ReplaceLineEndings("\n") != text)
        {
            File.WriteAllText(path + ".actual", text);
        }

        Assert.True(File.Exists(path), $"no golden file; the current format is in {path}.actual");
        Assert.Equal(File.ReadAllText(path).ReplaceLineEndings("\n"), text);
    }
}

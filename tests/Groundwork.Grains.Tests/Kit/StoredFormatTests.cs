using System.Text;
using System.Text.Json;
using Groundwork.Access;
using Groundwork.Grains.Lists;
using Groundwork.Grains.Resources;
using Groundwork.Grains.Storage;
using Groundwork.Lists;
using Xunit;

namespace Groundwork.Grains.Tests.Kit;

/// <summary>
/// The stored JSON of a list (head, item page, feed entry, operation record) is a schema: JSON binds by name, so a
/// renamed property strands stored data. This golden file guards it; change it only with a migration.
/// </summary>
public sealed class StoredFormatTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static string GoldenPath => Path.Combine(AppContext.BaseDirectory, "Fixtures", "list-stored.golden.json");

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
        var actual = new StringBuilder();
        foreach (var (name, json) in pieces)
        {
            actual.Append(name).Append(": ").AppendLine(JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement, Indented));
        }

        var text = actual.ToString().ReplaceLineEndings("\n");
        if (!File.Exists(GoldenPath) || File.ReadAllText(GoldenPath).ReplaceLineEndings("\n") != text)
        {
            File.WriteAllText(GoldenPath + ".actual", text);
        }

        Assert.True(File.Exists(GoldenPath), $"no golden file; the current format is in {GoldenPath}.actual");
        Assert.Equal(File.ReadAllText(GoldenPath).ReplaceLineEndings("\n"), text);
    }
}

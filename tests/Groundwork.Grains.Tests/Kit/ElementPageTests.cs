using System.Text.Json;
using Groundwork.Grains.Lists;
using Groundwork.Grains.Resources;
using Groundwork.Grains.Storage;
using Groundwork.Lists;
using Xunit;

namespace Groundwork.Grains.Tests.Kit;

/// <summary>
/// A page writes its elements from the JSON it remembers for them: what it writes must be exactly what plain
/// serialization of the same elements gives, after any sequence of inserts, replacements and removals.
/// </summary>
public sealed class ElementPageTests
{
    // As the state serializer writes (only what JSON needs escaped).
    private static readonly JsonSerializerOptions Plain = new(JsonSerializerDefaults.General) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Expected(ItemPage page) => JsonSerializer.Serialize(new { page.Items }, Plain);

    [Fact]
    public void A_page_written_after_each_edit_matches_plain_serialization_and_reads_back()
    {
        var serializer = new JsonStateSerializer();
        var page = new ItemPage();
        var random = new Random(7);
        for (var step = 0; step < 300; step++)
        {
            var at = page.Items.Count == 0 ? 0 : random.Next(page.Items.Count);
            switch (page.Items.Count == 0 ? 0 : random.Next(3))
            {
                case 0:
                    page.Items.Insert(at, new ListItem($"i{step}", $"title \"{step}\" é", "notes", step % 2 == 0, null, new DateOnly(2026, 12, 1)));
                    break;
                case 1:
                    page.Items[at] = page.Items[at] with { Done = !page.Items[at].Done, Title = $"changed {step}" };
                    break;
                default:
                    page.Items.RemoveAt(at);
                    break;
            }

            var written = serializer.ToUtf8(page);
            Assert.Equal(Expected(page), System.Text.Encoding.UTF8.GetString(written));
            var read = JsonStateSerializer.FromUtf8<ItemPage>(written);
            Assert.Equal(page.Items, read.Items);
        }
    }

    [Fact]
    public void A_page_type_with_stored_fields_of_its_own_is_refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new JsonStateSerializer().ToUtf8(new PageWithField()));
        Assert.Contains("Extra", error.Message, StringComparison.Ordinal);
    }

    private sealed class PageWithField : ElementPage<ListItem>
    {
        public int Extra { get; set; }
    }
}

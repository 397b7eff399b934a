using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Groundwork.Client;
using Groundwork.Grains.Access;
using Groundwork.Grains.Resources;
using Groundwork.Grains.Storage;
using Groundwork.Grains.Tenants;
using Groundwork.Testing;
using Groundwork.Transport;
using Xunit;

namespace Groundwork.Grains.Tests.Docs;

/// <summary>The README's configuration table names every option with its true default.</summary>
public sealed partial class ReadmeOptionsTests
{
    // Options whose README row describes the default in words, because the code's default is a placeholder.
    private static readonly Dictionary<string, string> DescribedInWords = new(StringComparer.Ordinal)
    {
        ["Groundwork:Access:OperatorKey"] = "generated at first start",
        ["Groundwork:Access:OperatorKeyFile"] = "beside the database",
        ["Groundwork:Storage:ConnectionString"] = "none",
        ["Groundwork:Client:ApiKey"] = "none",
        ["Groundwork:Gateway:Jwt"] = "off",
    };

    public static TheoryData<string, Type> Sections
    {
        get
        {
            var sections = new TheoryData<string, Type>
            {
                { "Groundwork:Tenants", typeof(TenantOptions) },
                { "Groundwork:Access", typeof(AccessOptions) },
                { FeedRelayOptions.SectionName, typeof(FeedRelayOptions) },
                { "Groundwork:Storage", typeof(SqliteStorageOptions) },
                { "Groundwork:Storage", typeof(RedisStorageSettings) },
                { "Groundwork:Messages", typeof(MessageLimits) },
                { "Groundwork:Client", typeof(GroundworkClientOptions) },
                { Gateway.HttpGatewayOptions.SectionName, typeof(Gateway.HttpGatewayOptions) },
                { Gateway.HttpGatewayOptions.SectionName + ":Jwt", typeof(Gateway.Http.JwtGatewayOptions) },
            };

            // Every building block's options, found as the silo finds them: a new block needs no line here.
            foreach (var block in typeof(ResourceOptions).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(ResourceOptions)) && !t.IsAbstract))
            {
                sections.Add(ResourceBlocks.SectionOf(block.GetCustomAttribute<BlockOptionsAttribute>()!.Block), block);
            }

            return sections;
        }
    }

    [Theory]
    [MemberData(nameof(Sections))]
    public void Every_option_is_in_the_readme_table_with_its_default(string section, Type options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var table = ReadmeTable();
        var defaults = Activator.CreateInstance(options)!;
        var problems = new List<string>();
        foreach (var property in options.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var key = $"{section}:{property.Name}";
            if (!table.TryGetValue(key, out var documented))
            {
                problems.Add($"{key} is missing");
                continue;
            }

            if (DescribedInWords.ContainsKey(key))
            {
                continue;
            }

            var expected = Format(property.Name, property.GetValue(defaults));
            if (documented != expected)
            {
                problems.Add($"{key}: README says '{documented}', the default is '{expected}'");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>Key to documented default, from rows like <c>| `Groundwork:A:B`, `C` | 1, 2 | ... |</c>.</summary>
    private static Dictionary<string, string> ReadmeTable()
    {
        var table = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(Repository.Root, "README.md")))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            if (cells.Length < 4 || !cells[1].StartsWith("`Groundwork:", StringComparison.Ordinal))
            {
                continue;
            }

            var names = Backticked().Matches(cells[1]).Select(m => m.Groups[1].Value).ToList();
            var prefix = names[0][..names[0].LastIndexOf(':')];
            var keys = names.Select(n => n.StartsWith("Groundwork:", StringComparison.Ordinal) ? n : $"{prefix}:{n}").ToList();
            var values = keys.Count == 1 ? [cells[2]] : cells[2].Split(", ");
            for (var i = 0; i < keys.Count; i++)
            {
                table[keys[i]] = values.Length == keys.Count ? values[i].Trim('`') : cells[2];
            }
        }

        return table;
    }

    private static string Format(string name, object? value) => value switch
    {
        TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
        bool flag => flag ? "true" : "false",
        int bytes when name.EndsWith("Bytes", StringComparison.Ordinal) && bytes % (1024 * 1024) == 0 => $"{bytes / (1024 * 1024)} MiB",
        int bytes when name.EndsWith("Bytes", StringComparison.Ordinal) && bytes % 1024 == 0 => $"{bytes / 1024} KiB",
        int number => number.ToString("N0", CultureInfo.InvariantCulture),
        string text => text,
        null => "none",
        System.Collections.ICollection { Count: 0 } => "none",
        IEnumerable<string> items => string.Join(", ", items),
        _ => value.ToString() ?? "",
    };

    [GeneratedRegex("`([A-Za-z:]+)`")]
    private static partial Regex Backticked();
}

using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Groundwork.Gateway.OpenApi;

/// <summary>
/// The XML documentation of the contract (Groundwork.Abstractions.xml beside its assembly), as plain text for the
/// OpenAPI document: summaries of types, properties and methods, and the descriptions of parameters.
/// </summary>
internal sealed partial class ContractDocs
{
    private readonly Dictionary<string, XElement> _members;

    private ContractDocs(Dictionary<string, XElement> members) => _members = members;

    /// <summary>The documentation of Groundwork.Abstractions, read once.</summary>
    public static ContractDocs Contract { get; } = For(typeof(ResourceKinds).Assembly);

    /// <summary>The documentation of <paramref name="contract"/>; empty when its XML file is not beside it.</summary>
    public static ContractDocs For(Assembly contract)
    {
        ArgumentNullException.ThrowIfNull(contract);
        var path = Path.ChangeExtension(contract.Location, ".xml");
        if (string.IsNullOrEmpty(contract.Location) || !File.Exists(path))
        {
            return new ContractDocs([]);
        }

        var members = XDocument.Load(path).Root?.Element("members")?.Elements("member")
            .Where(m => m.Attribute("name") is not null)
            .GroupBy(m => m.Attribute("name")!.Value, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal) ?? [];
        return new ContractDocs(members);
    }

    /// <summary>The summary of a type.</summary>
    public string? Summary(Type type) => Text(Member("T:" + Name(type))?.Element("summary"));

    /// <summary>The summary of a method.</summary>
    public string? Summary(MethodInfo method) => Text(Method(method)?.Element("summary"));

    /// <summary>What a method returns.</summary>
    public string? Returns(MethodInfo method) => Text(Method(method)?.Element("returns"));

    /// <summary>The description of a method's parameter.</summary>
    public string? Parameter(MethodInfo method, string name) =>
        Text(Method(method)?.Elements("param").FirstOrDefault(p => string.Equals(p.Attribute("name")?.Value, name, StringComparison.OrdinalIgnoreCase)));

    /// <summary>The description of a property (its own summary, or its record's parameter).</summary>
    public string? Property(Type type, string name)
    {
        var own = Text(Member($"P:{Name(type)}.{name}")?.Element("summary"));
        return own ?? Text(Member("T:" + Name(type))?.Elements("param").FirstOrDefault(p => p.Attribute("name")?.Value == name));
    }

    private XElement? Method(MethodInfo method)
    {
        var declaring = method.DeclaringType!;
        var prefix = $"M:{Name(declaring)}.{method.Name}";
        return _members.TryGetValue(prefix, out var bare) ? bare
            : _members.FirstOrDefault(m => m.Key.StartsWith(prefix + "(", StringComparison.Ordinal)).Value;
    }

    private XElement? Member(string id) => _members.GetValueOrDefault(id);

    private static string Name(Type type) =>
        (type.IsGenericType ? type.GetGenericTypeDefinition() : type).FullName!.Replace('+', '.');

    /// <summary>An XML doc element as one paragraph of plain text: references by their short name, code as itself.</summary>
    private static string? Text(XElement? element)
    {
        if (element is null)
        {
            return null;
        }

        var text = new StringBuilder();
        foreach (var node in element.Nodes())
        {
            text.Append(node switch
            {
                XText plain => plain.Value,
                XElement { Name.LocalName: "see" or "seealso" } see =>
                    see.Attribute("langword")?.Value ?? ShortName(see.Attribute("cref")?.Value ?? see.Attribute("href")?.Value ?? see.Value),
                XElement { Name.LocalName: "paramref" or "typeparamref" } reference => reference.Attribute("name")?.Value,
                XElement other => Text(other),
                _ => null,
            });
        }

        var result = Whitespace().Replace(text.ToString(), " ").Trim();
        return result.Length == 0 ? null : result;
    }

    private static string ShortName(string cref)
    {
        var name = cref.Length > 2 && cref[1] == ':' ? cref[2..] : cref;
        var open = name.IndexOf('(', StringComparison.Ordinal);
        if (open >= 0)
        {
            name = name[..open];
        }

        var parts = name.Split('.');
        return cref.StartsWith("M:", StringComparison.Ordinal) || cref.StartsWith("P:", StringComparison.Ordinal) || cref.StartsWith("F:", StringComparison.Ordinal)
            ? string.Join('.', parts.TakeLast(2)).Replace("`1", "", StringComparison.Ordinal)
            : parts[^1].Replace("`1", "", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}

using Groundwork.Grains.Sheets.Formulas;

namespace Groundwork.Grains.Sheets;

/// <summary>Rows or columns inserted into, or deleted from, one sheet.</summary>
/// <param name="Sheet">The sheet's index.</param>
/// <param name="Rows">Rows (true) or columns (false).</param>
/// <param name="Insert">Insert (true) or delete (false).</param>
/// <param name="At">The zero-based first row or column inserted before, or deleted.</param>
/// <param name="Count">How many.</param>
public readonly record struct StructuralEdit(int Sheet, bool Rows, bool Insert, int At, int Count);

/// <summary>
/// Rewriting formulas' references in their own text, as Excel does when rows or columns move or a sheet is renamed:
/// everything else in the formula stays as it was typed.
/// </summary>
internal static class FormulaRewriter
{
    /// <summary>A reference as written in a formula.</summary>
    public readonly record struct Written(string? Sheet, CellRef From, CellRef To, AreaKind Kind, bool IsCell, string Prefix);

    /// <summary>
    /// <paramref name="formula"/> (parsed as <paramref name="tree"/>) with each reference replaced by what
    /// <paramref name="replace"/> gives (null keeps it); the formula itself when nothing changed.
    /// </summary>
    public static string Rewrite(string formula, FormulaNode tree, Func<Written, string?> replace)
    {
        var spans = new List<(int Start, int End, string Text)>();
        var work = new Stack<FormulaNode>();
        work.Push(tree);
        while (work.Count > 0)
        {
            var node = work.Pop();
            (int Start, int End, Written Reference)? found = node switch
            {
                ReferenceNode r => (r.Position, r.End, new Written(r.Sheet, r.Cell, r.Cell, AreaKind.Cells, true, Prefix(formula, r.Position, r.End, r.Sheet))),
                AreaNode a => (a.Position, a.End, new Written(a.Sheet, a.From, a.To, a.Kind, false, Prefix(formula, a.Position, a.End, a.Sheet))),
                _ => null,
            };
            if (found is { } f)
            {
                if (replace(f.Reference) is { } text)
                {
                    spans.Add((f.Start, f.End, text));
                }

                continue;
            }

            foreach (var child in FormulaTree.Children(node))
            {
                work.Push(child);
            }
        }

        if (spans.Count == 0)
        {
            return formula;
        }

        var result = new System.Text.StringBuilder(formula);
        foreach (var (start, end, text) in spans.OrderByDescending(s => s.Start))
        {
            result.Remove(start, end - start).Insert(start, text);
        }

        return result.ToString();
    }

    /// <summary>A reference written back: its sheet prefix, then the cell or the area with its <c>$</c> marks.</summary>
    public static string Text(string prefix, CellRef from, CellRef to, AreaKind kind, bool isCell) => prefix + (kind switch
    {
        _ when isCell => from.ToString(),
        AreaKind.Cells => $"{from}:{to}",
        AreaKind.Columns => $"{(from.ColumnAbsolute ? "$" : "")}{CellRef.ColumnName(from.Column)}:{(to.ColumnAbsolute ? "$" : "")}{CellRef.ColumnName(to.Column)}",
        _ => $"{(from.RowAbsolute ? "$" : "")}{from.Row + 1}:{(to.RowAbsolute ? "$" : "")}{to.Row + 1}",
    });

    /// <summary>A sheet's name as a reference writes it: quoted when it is not a plain name.</summary>
    public static string SheetPrefix(string name) =>
        System.Text.RegularExpressions.Regex.IsMatch(name, @"^[A-Za-z_][A-Za-z0-9_.]*$") && !System.Text.RegularExpressions.Regex.IsMatch(name, @"^[A-Za-z]{1,3}[0-9]+$")
            ? name + "!"
            : "'" + name.Replace("'", "''", StringComparison.Ordinal) + "'!";

    private static string Prefix(string formula, int start, int end, string? sheet)
    {
        if (sheet is null)
        {
            return "";
        }

        var bang = formula.LastIndexOf('!', end - 1, end - start);
        return formula[start..(bang + 1)];
    }

    /// <summary>
    /// Where a span of rows (or columns) <paramref name="start"/>..<paramref name="end"/> goes when
    /// <paramref name="edit"/> happens on its axis: null when it is deleted (a cell in the deleted span, or an area
    /// wholly in it); an area partly deleted shrinks, and one the insertion falls inside grows.
    /// </summary>
    public static (int Start, int End)? Shift(int start, int end, StructuralEdit edit, int max)
    {
        if (edit.Insert)
        {
            var s = start >= edit.At ? start + edit.Count : start;
            var e = end >= edit.At ? end + edit.Count : end;
            return s >= max ? null : (s, Math.Min(e, max - 1));
        }

        var last = edit.At + edit.Count - 1;
        var newStart = start > last ? start - edit.Count : start >= edit.At ? edit.At : start;
        var newEnd = end > last ? end - edit.Count : end >= edit.At ? edit.At - 1 : end;
        return newStart > newEnd ? null : (newStart, newEnd);
    }
}

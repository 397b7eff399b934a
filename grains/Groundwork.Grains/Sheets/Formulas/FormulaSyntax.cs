using System.Globalization;
using System.Text.RegularExpressions;

namespace Groundwork.Grains.Sheets.Formulas;

/// <summary>A cell on Excel's grid, zero-based, with the <c>$</c> marks of the reference that named it.</summary>
public readonly record struct CellRef(int Row, int Column, bool RowAbsolute = false, bool ColumnAbsolute = false)
{
    /// <summary>Rows on Excel's grid.</summary>
    public const int MaxRows = 1_048_576;

    /// <summary>Columns on Excel's grid (A to XFD).</summary>
    public const int MaxColumns = 16_384;

    /// <summary>The column's letters (0 is A, 16,383 is XFD).</summary>
    public static string ColumnName(int column)
    {
        Span<char> letters = stackalloc char[3];
        var at = 3;
        for (var c = column + 1; c > 0; c = (c - 1) / 26)
        {
            letters[--at] = (char)('A' + (c - 1) % 26);
        }

        return new string(letters[at..]);
    }

    /// <summary>The column of <paramref name="letters"/>, or -1 past XFD.</summary>
    public static int ColumnOf(ReadOnlySpan<char> letters)
    {
        var column = 0;
        foreach (var letter in letters)
        {
            column = column * 26 + (char.ToUpperInvariant(letter) - 'A' + 1);
        }

        return column is >= 1 and <= MaxColumns ? column - 1 : -1;
    }

    /// <summary>A1 style, with its <c>$</c> marks.</summary>
    public override string ToString() =>
        (ColumnAbsolute ? "$" : "") + ColumnName(Column) + (RowAbsolute ? "$" : "") + (Row + 1).ToString(CultureInfo.InvariantCulture);
}

/// <summary>What an area reference spans.</summary>
public enum AreaKind : byte
{
    /// <summary>A1:B3.</summary>
    Cells,

    /// <summary>A:C, whole columns.</summary>
    Columns,

    /// <summary>1:3, whole rows.</summary>
    Rows,
}

/// <summary>The binary operators, in Excel's meaning.</summary>
public enum BinaryOperator : byte
{
    /// <summary>+</summary>
    Add,

    /// <summary>-</summary>
    Subtract,

    /// <summary>*</summary>
    Multiply,

    /// <summary>/</summary>
    Divide,

    /// <summary>^</summary>
    Power,

    /// <summary>&amp;</summary>
    Concatenate,

    /// <summary>=</summary>
    Equal,

    /// <summary>&lt;&gt;</summary>
    NotEqual,

    /// <summary>&lt;</summary>
    Less,

    /// <summary>&lt;=</summary>
    LessOrEqual,

    /// <summary>&gt;</summary>
    Greater,

    /// <summary>&gt;=</summary>
    GreaterOrEqual,
}

/// <summary>A parsed formula's tree. Every node keeps the position in the formula's text where it starts.</summary>
public abstract record FormulaNode(int Position);

/// <summary>A number literal.</summary>
public sealed record NumberNode(int Position, double Value) : FormulaNode(Position);

/// <summary>A text literal.</summary>
public sealed record TextNode(int Position, string Value) : FormulaNode(Position);

/// <summary>TRUE or FALSE.</summary>
public sealed record BooleanNode(int Position, bool Value) : FormulaNode(Position);

/// <summary>An error literal such as <c>#N/A</c>.</summary>
public sealed record ErrorNode(int Position, FormulaError Value) : FormulaNode(Position);

/// <summary>A cell reference, on the formula's own sheet when <see cref="Sheet"/> is null.</summary>
public sealed record ReferenceNode(int Position, string? Sheet, CellRef Cell) : FormulaNode(Position)
{
    /// <summary>Where its text ends (exclusive), for rewriting it in place.</summary>
    public int End { get; init; }
}

/// <summary>An area: cells from one corner to the other, whole columns or whole rows.</summary>
public sealed record AreaNode(int Position, string? Sheet, CellRef From, CellRef To, AreaKind Kind) : FormulaNode(Position)
{
    /// <summary>Where its text ends (exclusive), for rewriting it in place.</summary>
    public int End { get; init; }
}

/// <summary>The <c>:</c> operator between two references that are not both plain cells (e.g. <c>A1:INDEX(...)</c>).</summary>
public sealed record RangeNode(int Position, FormulaNode Left, FormulaNode Right) : FormulaNode(Position);

/// <summary>A name that is not a function, a reference or a boolean: <c>#NAME?</c> (named ranges are not supported).</summary>
public sealed record NameNode(int Position, string Name) : FormulaNode(Position);

/// <summary>Unary minus (or plus).</summary>
public sealed record NegateNode(int Position, FormulaNode Operand, bool Minus) : FormulaNode(Position);

/// <summary>Postfix <c>%</c>.</summary>
public sealed record PercentNode(int Position, FormulaNode Operand) : FormulaNode(Position);

/// <summary>A binary operation.</summary>
public sealed record BinaryNode(int Position, BinaryOperator Operator, FormulaNode Left, FormulaNode Right) : FormulaNode(Position);

/// <summary>A function call; <see cref="Name"/> in upper case.</summary>
public sealed record CallNode(int Position, string Name, IReadOnlyList<FormulaNode> Arguments) : FormulaNode(Position);

/// <summary>An argument left out (<c>IF(A1,,2)</c>).</summary>
public sealed record MissingNode(int Position) : FormulaNode(Position);

/// <summary>An array constant such as <c>{1,2;3,4}</c>, rows by columns.</summary>
public sealed record ArrayNode(int Position, CellValue[,] Values) : FormulaNode(Position);

/// <summary>Walking a formula's tree without recursion (left-deep chains can be thousands of nodes long).</summary>
public static class FormulaTree
{
    /// <summary>The node's operands and arguments.</summary>
    public static IEnumerable<FormulaNode> Children(FormulaNode node) => node switch
    {
        NegateNode n => [n.Operand],
        PercentNode p => [p.Operand],
        BinaryNode b => [b.Left, b.Right],
        RangeNode r => [r.Left, r.Right],
        CallNode c => c.Arguments,
        _ => [],
    };

    /// <summary>Pushes the node's operands and arguments onto <paramref name="work"/> (what <see cref="Children"/> gives, without allocating).</summary>
    public static void PushChildren(FormulaNode node, Stack<FormulaNode> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        switch (node)
        {
            case NegateNode n:
                work.Push(n.Operand);
                break;
            case PercentNode p:
                work.Push(p.Operand);
                break;
            case BinaryNode b:
                work.Push(b.Left);
                work.Push(b.Right);
                break;
            case RangeNode r:
                work.Push(r.Left);
                work.Push(r.Right);
                break;
            case CallNode c:
                for (var i = 0; i < c.Arguments.Count; i++)
                {
                    work.Push(c.Arguments[i]);
                }

                break;
        }
    }

    /// <summary>The node and everything under it.</summary>
    public static IEnumerable<FormulaNode> Descendants(FormulaNode node)
    {
        var work = new Stack<FormulaNode>();
        work.Push(node);
        while (work.Count > 0)
        {
            var next = work.Pop();
            yield return next;
            PushChildren(next, work);
        }
    }
}

/// <summary>The limits a formula's text is held to (Excel's, by default).</summary>
public sealed record FormulaLimits
{
    /// <summary>Characters in a formula, its <c>=</c> included.</summary>
    public int MaxLength { get; init; } = 8_192;

    /// <summary>Levels of parentheses and function calls inside one another.</summary>
    public int MaxNesting { get; init; } = 64;

    /// <summary>Arguments of one function call.</summary>
    public int MaxArguments { get; init; } = 255;

    /// <summary>Excel's limits.</summary>
    public static FormulaLimits Default { get; } = new();
}

/// <summary>
/// Excel's formula language: a lexer and a Pratt parser over one table of binding powers, so that Excel's precedence
/// (range <c>:</c> tightest, then unary minus, postfix <c>%</c>, <c>^</c> left to right, <c>* /</c>, <c>+ -</c>,
/// <c>&amp;</c>, comparisons) is data. Nesting is bounded, so recursion is too; chains of one operator are built and
/// evaluated without recursion.
/// </summary>
public sealed partial class FormulaParser
{
    private const int RangePower = 90;
    private const int PrefixPower = 80;
    private const int PercentPower = 70;

    private readonly string _text;
    private readonly FormulaLimits _limits;
    private int _at;
    private int _depth;

    private FormulaParser(string text, FormulaLimits limits)
    {
        _text = text;
        _limits = limits;
    }

    /// <summary>Parses <paramref name="formula"/>, which starts with <c>=</c>.</summary>
    /// <exception cref="InvalidFormulaException">It does not parse: where and why.</exception>
    /// <exception cref="LimitExceededException">It is over a limit (<c>Sheets:MaxFormulaLength</c>, <c>Sheets:MaxNesting</c>, <c>Sheets:MaxArguments</c>).</exception>
    public static FormulaNode Parse(string formula, FormulaLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(formula);
        limits ??= FormulaLimits.Default;
        if (formula.Length > limits.MaxLength)
        {
            throw new LimitExceededException("Sheets:MaxFormulaLength", limits.MaxLength, formula.Length);
        }

        if (formula.Length == 0 || formula[0] != '=')
        {
            throw new InvalidFormulaException(formula, 0, "a formula starts with '='");
        }

        var parser = new FormulaParser(formula, limits) { _at = 1 };
        parser.SkipSpaces();
        if (parser.AtEnd)
        {
            throw parser.Error("the formula is empty");
        }

        var tree = parser.Expression(0);
        parser.SkipSpaces();
        if (!parser.AtEnd)
        {
            throw parser.Error($"unexpected '{parser._text[parser._at]}'");
        }

        return tree;
    }

    private bool AtEnd => _at >= _text.Length;

    private char Peek(int ahead = 0) => _at + ahead < _text.Length ? _text[_at + ahead] : '\0';

    private InvalidFormulaException Error(string reason, int? at = null) => new(_text, Math.Min(at ?? _at, _text.Length), reason);

    private void SkipSpaces()
    {
        while (!AtEnd && char.IsWhiteSpace(_text[_at]))
        {
            _at++;
        }
    }

    private FormulaNode Expression(int minPower)
    {
        var left = Prefix();
        while (true)
        {
            SkipSpaces();
            if (AtEnd)
            {
                return left;
            }

            var start = _at;
            if (Peek() == '%')
            {
                if (PercentPower <= minPower)
                {
                    return left;
                }

                _at++;
                left = new PercentNode(start, left);
                continue;
            }

            if (Peek() == ':')
            {
                if (RangePower <= minPower)
                {
                    return left;
                }

                _at++;

                // A primary, not a signed expression: "A1:-A1" is no reference, and a run of them must not recurse.
                var right = Primary();
                left = Range(start, left, right);
                continue;
            }

            if (Infix() is not { } op)
            {
                return left;
            }

            var power = Power(op.Operator);
            if (power <= minPower)
            {
                return left;
            }

            _at += op.Length;
            left = new BinaryNode(start, op.Operator, left, Expression(power));
        }
    }

    private static int Power(BinaryOperator op) => op switch
    {
        BinaryOperator.Power => 60,
        BinaryOperator.Multiply or BinaryOperator.Divide => 50,
        BinaryOperator.Add or BinaryOperator.Subtract => 40,
        BinaryOperator.Concatenate => 30,
        _ => 20,
    };

    private (BinaryOperator Operator, int Length)? Infix() => (Peek(), Peek(1)) switch
    {
        ('+', _) => (BinaryOperator.Add, 1),
        ('-', _) => (BinaryOperator.Subtract, 1),
        ('*', _) => (BinaryOperator.Multiply, 1),
        ('/', _) => (BinaryOperator.Divide, 1),
        ('^', _) => (BinaryOperator.Power, 1),
        ('&', _) => (BinaryOperator.Concatenate, 1),
        ('=', _) => (BinaryOperator.Equal, 1),
        ('<', '>') => (BinaryOperator.NotEqual, 2),
        ('<', '=') => (BinaryOperator.LessOrEqual, 2),
        ('<', _) => (BinaryOperator.Less, 1),
        ('>', '=') => (BinaryOperator.GreaterOrEqual, 2),
        ('>', _) => (BinaryOperator.Greater, 1),
        _ => null,
    };

    /// <summary><c>left:right</c>: two plain cells on one sheet make an area; anything else stays a range of two references.</summary>
    private FormulaNode Range(int at, FormulaNode left, FormulaNode right)
    {
        // A1:B2 as written is one area; (A1):B2, A1 : B2 or Sheet1!A1:Sheet1!B2 stay a range of two references, so
        // rewriting a reference in place never swallows the text between them.
        if (left is ReferenceNode a && right is ReferenceNode b && b.Sheet is null && a.End == at && b.Position == at + 1)
        {
            return new AreaNode(a.Position, a.Sheet, Order(a.Cell, b.Cell, true), Order(a.Cell, b.Cell, false), AreaKind.Cells) { End = b.End };
        }

        if (left is NumberNode or TextNode or BooleanNode or ArrayNode || right is NumberNode or TextNode or BooleanNode or ArrayNode)
        {
            throw Error("':' joins references only", at);
        }

        return new RangeNode(at, left, right);
    }

    private FormulaNode Prefix()
    {
        // Unary signs in a loop, so a long run of them costs no stack.
        SkipSpaces();
        var signs = new List<(int At, bool Minus)>();
        while (Peek() is '-' or '+')
        {
            signs.Add((_at, Peek() == '-'));
            _at++;
            SkipSpaces();
        }

        var operand = signs.Count == 0 ? Primary() : Expression(PrefixPower);
        for (var i = signs.Count - 1; i >= 0; i--)
        {
            operand = new NegateNode(signs[i].At, operand, signs[i].Minus);
        }

        return operand;
    }

    private FormulaNode Primary()
    {
        SkipSpaces();
        var start = _at;
        if (AtEnd)
        {
            throw Error("the formula ends where a value should be");
        }

        var c = Peek();
        switch (c)
        {
            case '(':
            {
                _at++;
                Enter(start);
                var inner = Expression(0);
                SkipSpaces();
                Expect(')', "a ')' to close the '(' at position " + (start + 1));
                _depth--;
                return inner;
            }

            case '"':
                return new TextNode(start, Text());
            case '#':
                return ErrorLiteral();
            case '{':
                return Array();
            case '\'':
                return Reference(start) ?? throw Error("a reference after the sheet name");
        }

        if (char.IsAsciiDigit(c) || c == '.')
        {
            return Reference(start) ?? Number();
        }

        if (char.IsAsciiLetter(c) || c is '$' or '_' or '\\')
        {
            return Reference(start) ?? Word(start);
        }

        throw Error($"unexpected '{c}'");
    }

    private void Enter(int at)
    {
        if (++_depth > _limits.MaxNesting)
        {
            throw new LimitExceededException("Sheets:MaxNesting", _limits.MaxNesting, _depth);
        }
    }

    private void Expect(char c, string what)
    {
        if (Peek() != c)
        {
            throw Error(AtEnd ? $"the formula ends where {what} should be" : $"expected {what}, found '{Peek()}'");
        }

        _at++;
    }

    private NumberNode Number()
    {
        var length = NumberLength(_at);
        if (length == 0)
        {
            throw Error("a number");
        }

        var start = _at;
        _at += length;
        if (!double.TryParse(_text.AsSpan(start, length), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw Error("a number out of range", start);
        }

        return new NumberNode(start, value);
    }

    private string Text()
    {
        var start = _at;
        _at++;
        var text = new System.Text.StringBuilder();
        while (true)
        {
            if (AtEnd)
            {
                throw Error("a text that is not closed with '\"'", start);
            }

            var c = _text[_at++];
            if (c == '"')
            {
                if (Peek() != '"')
                {
                    return text.ToString();
                }

                _at++;
            }

            text.Append(c);
        }
    }

    private ErrorNode ErrorLiteral()
    {
        var start = _at;
        foreach (var error in Enum.GetValues<FormulaError>())
        {
            var literal = CellValue.ErrorText(error);
            if (string.Compare(_text, _at, literal, 0, literal.Length, StringComparison.OrdinalIgnoreCase) == 0)
            {
                _at += literal.Length;
                return new ErrorNode(start, error);
            }
        }

        throw Error("an error value such as #N/A or #DIV/0!");
    }

    private ArrayNode Array()
    {
        var start = _at;
        _at++;
        var rows = new List<List<CellValue>> { new() };
        while (true)
        {
            SkipSpaces();
            rows[^1].Add(ArrayElement());
            SkipSpaces();
            switch (Peek())
            {
                case ',':
                    _at++;
                    continue;
                case ';':
                    _at++;
                    rows.Add([]);
                    continue;
                case '}':
                    _at++;
                    break;
                default:
                    throw Error(AtEnd ? "an array that is not closed with '}'" : $"expected ',', ';' or '}}' in the array, found '{Peek()}'");
            }

            break;
        }

        var columns = rows[0].Count;
        if (rows.Any(r => r.Count != columns))
        {
            throw Error("every row of an array has as many values as the first", start);
        }

        var values = new CellValue[rows.Count, columns];
        for (var r = 0; r < rows.Count; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                values[r, c] = rows[r][c];
            }
        }

        return new ArrayNode(start, values);
    }

    private CellValue ArrayElement()
    {
        var negative = false;
        if (Peek() is '-' or '+')
        {
            negative = Peek() == '-';
            _at++;
        }

        switch (Peek())
        {
            case '"' when !negative:
                return CellValue.Text(Text());
            case '#' when !negative:
                return CellValue.Error(ErrorLiteral().Value);
        }

        if (char.IsAsciiDigit(Peek()) || Peek() == '.')
        {
            var number = Number().Value;
            return CellValue.Number(negative ? -number : number);
        }

        var word = WordPattern().Match(_text, _at);
        if (!negative && word.Success && word.Length > 0 && (word.Value.Equals("TRUE", StringComparison.OrdinalIgnoreCase) || word.Value.Equals("FALSE", StringComparison.OrdinalIgnoreCase)))
        {
            _at += word.Length;
            return CellValue.Boolean(word.Value.Equals("TRUE", StringComparison.OrdinalIgnoreCase));
        }

        throw Error("an array holds numbers, text, booleans and errors only");
    }

    /// <summary>A reference at the cursor (with its sheet, if any), or null with the cursor unmoved.</summary>
    private FormulaNode? Reference(int start)
    {
        string? sheet = null;
        var at = _at;
        if (Peek() == '\'')
        {
            // 'Q1 plan'!A1, with '' for a quote inside.
            var name = new System.Text.StringBuilder();
            at++;
            while (true)
            {
                if (at >= _text.Length)
                {
                    throw Error("a sheet name that is not closed with \"'\"", start);
                }

                if (_text[at] == '\'')
                {
                    if (at + 1 < _text.Length && _text[at + 1] == '\'')
                    {
                        name.Append('\'');
                        at += 2;
                        continue;
                    }

                    at++;
                    break;
                }

                name.Append(_text[at++]);
            }

            if (at >= _text.Length || _text[at] != '!')
            {
                throw Error("'!' after the quoted sheet name", at);
            }

            sheet = name.ToString();
            at++;
        }
        else if (PlainSheet(at) is var plain && plain > 0)
        {
            sheet = _text.Substring(at, plain - 1);
            at += plain;
        }

        if (sheet is { Length: 0 })
        {
            throw Error("a sheet name", start);
        }

        if (Scan(at, letters: true) is { } columns && At(columns.End) == ':' && Scan(columns.End + 1, letters: true) is { } lastColumn && !Continues(lastColumn.End, cell: true))
        {
            var (c1, c2) = (CellRef.ColumnOf(_text.AsSpan(columns.Start, columns.End - columns.Start)), CellRef.ColumnOf(_text.AsSpan(lastColumn.Start, lastColumn.End - lastColumn.Start)));
            if (c1 < 0 || c2 < 0)
            {
                return sheet is null ? null : throw Error("a column past XFD", at);
            }

            _at = lastColumn.End;
            CellRef from = new(0, c1, false, columns.Absolute), to = new(CellRef.MaxRows - 1, c2, false, lastColumn.Absolute);
            return new AreaNode(start, sheet, Order(from, to, true), Order(from, to, false), AreaKind.Columns) { End = _at };
        }

        if (Scan(at, letters: false) is { } rows && At(rows.End) == ':' && Scan(rows.End + 1, letters: false) is { } lastRow && !Continues(lastRow.End, cell: false))
        {
            var (r1, r2) = (RowOf(_text.AsSpan(rows.Start, rows.End - rows.Start)), RowOf(_text.AsSpan(lastRow.Start, lastRow.End - lastRow.Start)));
            if (r1 < 0 || r2 < 0)
            {
                return sheet is null ? null : throw Error("a row past 1048576", at);
            }

            _at = lastRow.End;
            CellRef from = new(r1, 0, rows.Absolute, false), to = new(r2, CellRef.MaxColumns - 1, lastRow.Absolute, false);
            return new AreaNode(start, sheet, Order(from, to, true), Order(from, to, false), AreaKind.Rows) { End = _at };
        }

        if (Scan(at, letters: true) is { } letters && Scan(letters.End, letters: false) is { } digits && !Continues(digits.End, cell: true))
        {
            var column = CellRef.ColumnOf(_text.AsSpan(letters.Start, letters.End - letters.Start));
            var row = RowOf(_text.AsSpan(digits.Start, digits.End - digits.Start));
            if (column >= 0 && row >= 0)
            {
                _at = digits.End;
                return new ReferenceNode(start, sheet, new CellRef(row, column, digits.Absolute, letters.Absolute)) { End = _at };
            }
        }

        if (sheet is not null)
        {
            // Sheet2!#REF! is what a reference to deleted cells of another sheet becomes.
            if (string.Compare(_text, at, "#REF!", 0, 5, StringComparison.OrdinalIgnoreCase) == 0)
            {
                _at = at + 5;
                return new ErrorNode(start, FormulaError.Ref);
            }

            throw Error("a cell or an area after the sheet name", at);
        }

        return null;
    }

    /// <summary>The length of a number at <paramref name="at"/> (<c>12</c>, <c>1.5</c>, <c>.5</c>, <c>1.</c>, <c>1e3</c>, <c>2E-4</c>), or 0.</summary>
    private int NumberLength(int at)
    {
        var end = at;
        while (char.IsAsciiDigit(At(end)))
        {
            end++;
        }

        var integer = end > at;
        if (At(end) == '.' && (integer || char.IsAsciiDigit(At(end + 1))))
        {
            end++;
            while (char.IsAsciiDigit(At(end)))
            {
                end++;
            }
        }
        else if (!integer)
        {
            return 0;
        }

        if (At(end) is 'e' or 'E')
        {
            var digits = At(end + 1) is '+' or '-' ? end + 2 : end + 1;
            if (char.IsAsciiDigit(At(digits)))
            {
                end = digits;
                while (char.IsAsciiDigit(At(end)))
                {
                    end++;
                }
            }
        }

        return end - at;
    }

    private char At(int index) => index < _text.Length ? _text[index] : '\0';

    /// <summary>
    /// An optional <c>$</c> and then a run of ASCII letters (1 to 3) or of digits (1 to 7) at <paramref name="at"/>:
    /// where the run starts and ends, or null (a longer run is no part of a reference).
    /// </summary>
    private (int Start, int End, bool Absolute)? Scan(int at, bool letters)
    {
        var absolute = At(at) == '$';
        var start = absolute ? at + 1 : at;
        var end = start;
        while (end < _text.Length && (letters ? char.IsAsciiLetter(_text[end]) : char.IsAsciiDigit(_text[end])))
        {
            end++;
        }

        return end - start is var length && length >= 1 && length <= (letters ? 3 : 7) ? (start, end, absolute) : null;
    }

    /// <summary>Whether the text goes on at <paramref name="at"/> as a name would (so what came before was not a reference).</summary>
    private bool Continues(int at, bool cell)
    {
        var next = At(at);
        return cell ? char.IsAsciiLetterOrDigit(next) || next is '_' or '.' or '(' or '!' : char.IsAsciiDigit(next) || next == '.';
    }

    /// <summary>The length of a plain sheet name and its <c>!</c> at <paramref name="at"/> (<c>Sheet2!</c>), or 0.</summary>
    private int PlainSheet(int at)
    {
        if (at >= _text.Length || !(char.IsAsciiLetter(_text[at]) || _text[at] == '_'))
        {
            return 0;
        }

        var end = at + 1;
        while (end < _text.Length && (char.IsAsciiLetterOrDigit(_text[end]) || _text[end] is '_' or '.'))
        {
            end++;
        }

        return At(end) == '!' ? end - at + 1 : 0;
    }

    private static int RowOf(ReadOnlySpan<char> digits) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var row) && row is >= 1 and <= CellRef.MaxRows ? row - 1 : -1;

    /// <summary>The top-left (or bottom-right) corner of an area named by two corners in any order.</summary>
    private static CellRef Order(CellRef a, CellRef b, bool first)
    {
        var (top, bottom) = a.Row <= b.Row ? (a, b) : (b, a);
        var (left, right) = a.Column <= b.Column ? (a, b) : (b, a);
        return first
            ? new CellRef(top.Row, left.Column, top.RowAbsolute, left.ColumnAbsolute)
            : new CellRef(bottom.Row, right.Column, bottom.RowAbsolute, right.ColumnAbsolute);
    }

    /// <summary>A function call, TRUE or FALSE, or a name.</summary>
    private FormulaNode Word(int start)
    {
        var match = WordPattern().Match(_text, _at);
        if (!match.Success || match.Length == 0)
        {
            throw Error($"unexpected '{Peek()}'");
        }

        _at += match.Length;
        var name = match.Value.ToUpperInvariant();
        var afterName = _at;
        SkipSpaces();
        if (Peek() != '(')
        {
            _at = afterName;
            return name switch
            {
                "TRUE" => new BooleanNode(start, true),
                "FALSE" => new BooleanNode(start, false),
                _ => new NameNode(start, name),
            };
        }

        _at++;
        Enter(start);
        var arguments = new List<FormulaNode>();
        SkipSpaces();
        if (Peek() == ')')
        {
            _at++;
            _depth--;
            return Checked(start, new CallNode(start, name, arguments));
        }

        while (true)
        {
            SkipSpaces();
            arguments.Add(Peek() is ',' or ')' ? new MissingNode(_at) : Expression(0));
            if (arguments.Count > _limits.MaxArguments)
            {
                throw new LimitExceededException("Sheets:MaxArguments", _limits.MaxArguments, arguments.Count);
            }

            SkipSpaces();
            if (Peek() == ',')
            {
                _at++;
                continue;
            }

            Expect(')', $"',' or ')' in the arguments of {name}");
            _depth--;
            return Checked(start, new CallNode(start, name, arguments));
        }
    }

    /// <summary>A known function with too few or too many arguments does not parse (an unknown one is #NAME? when evaluated).</summary>
    private CallNode Checked(int at, CallNode call)
    {
        if (FormulaFunctions.TryArity(call.Name, out var min, out var max) && (call.Arguments.Count < min || call.Arguments.Count > max))
        {
            var takes = min == max ? $"{min}" : max >= _limits.MaxArguments ? $"at least {min}" : $"{min} to {max}";
            throw Error($"{call.Name} takes {takes} argument{(min == 1 && max == 1 ? "" : "s")}, not {call.Arguments.Count}", at);
        }

        return call;
    }


    [GeneratedRegex(@"\G[A-Za-z_\\][A-Za-z0-9_.]*")]
    private static partial Regex WordPattern();



}

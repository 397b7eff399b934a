using System.Buffers;
using System.Buffers.Binary;
using System.Collections;
using System.Globalization;
using System.Text;

namespace Groundwork.Sheets;

/// <summary>
/// Cells as a workbook sends them: each cell's sheet, row and column as numbers, its value and its formula, in one
/// compact buffer that the wire carries as bytes; read as <see cref="CellData"/> (addresses formatted) on first use. A
/// workbook makes one for a change and shares it between the caller's answer and the feed, so 10,000 changed cells are
/// encoded once, not once per message and per field.
/// </summary>
[GenerateSerializer, Immutable, Alias("gw.cell-list")]
public sealed class CellList : IReadOnlyList<CellData>
{
    // Each sheet's prefix as an address writes it (Sheet1!, 'Q1 plan'!), by the number the cells carry.
    [Id(0)] private readonly string[] _sheets;
    [Id(1)] private readonly byte[] _data;
    [Id(2)] private readonly int _count;
    [NonSerialized] private CellData[]? _cells;

    private CellList(string[] sheets, byte[] data, int count)
    {
        _sheets = sheets;
        _data = data;
        _count = count;
    }

    /// <summary>No cells.</summary>
    public static CellList Empty { get; } = new([], [], 0);

    /// <inheritdoc/>
    public int Count => _count;

    /// <inheritdoc/>
    public CellData this[int index] => Cells()[index];

    /// <inheritdoc/>
    public IEnumerator<CellData> GetEnumerator() => ((IEnumerable<CellData>)Cells()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Reads the cells as encoded, their addresses into a buffer of the caller's (for writing them in another form without making a string per address).</summary>
    public Reader Read() => new(this);

    // Two readers racing here decode the same cells; either array is right.
    private CellData[] Cells() => _cells ??= Decode();

    private CellData[] Decode()
    {
        // Each cell takes at least five bytes: a count past that is not a list this type wrote.
        if (_data is null || _sheets is null || _count < 0 || (long)_count * 5 > _data.Length)
        {
            throw Malformed();
        }

        var cells = new CellData[_count];
        var reader = Read();
        Span<char> address = stackalloc char[MaxAddressLength];
        for (var i = 0; i < cells.Length; i++)
        {
            if (!reader.Next())
            {
                throw Malformed();
            }

            var written = reader.Address(address);
            cells[i] = new CellData(address[..written].ToString(), reader.Value, reader.Formula);
        }

        return reader.Next() ? throw Malformed() : cells;
    }

    /// <summary>The longest address a cell of this list has, in characters.</summary>
    public int MaxAddressLength => (_sheets.Length == 0 ? 0 : _sheets.Max(s => s.Length)) + 3 + 7;

    /// <summary>The cells of a <see cref="CellList"/> one by one, as encoded.</summary>
    public struct Reader
    {
        private readonly CellList _list;
        private int _at;
        private int _sheet;
        private int _row;
        private int _column;

        internal Reader(CellList list) => _list = list;

        /// <summary>The current cell's value.</summary>
        public SheetValue Value { get; private set; }

        /// <summary>The current cell's formula, when it is listed with it.</summary>
        public string? Formula { get; private set; }

        /// <summary>Moves to the next cell; false past the last.</summary>
        public bool Next()
        {
            var data = _list._data.AsSpan();
            if (_at >= data.Length)
            {
                return false;
            }

            _sheet = (int)ReadNumber(data, ref _at);
            _row = (int)ReadNumber(data, ref _at);
            _column = (int)ReadNumber(data, ref _at);
            var kind = (SheetValueKind)data[_at++];
            Value = kind switch
            {
                SheetValueKind.Number or SheetValueKind.Boolean => new SheetValue(kind, BinaryPrimitives.ReadDoubleLittleEndian(data[_at..(_at += 8)])),
                SheetValueKind.Text or SheetValueKind.Error => new SheetValue(kind, Text: ReadText(data, ref _at)),
                _ => default,
            };
            Formula = data[_at++] == 1 ? ReadText(data, ref _at) : null;
            return true;
        }

        /// <summary>Writes the current cell's address (<c>Sheet1!B3</c>) into <paramref name="into"/>, at least <see cref="MaxAddressLength"/> long; returns its length.</summary>
        public readonly int Address(Span<char> into)
        {
            var prefix = _list._sheets[_sheet];
            prefix.CopyTo(into);
            return prefix.Length + CellList.Address(into[prefix.Length..], _column, _row);
        }
    }

    private InvalidOperationException Malformed() => new($"a malformed cell list: {_count} cells in {_data?.Length ?? 0} bytes");

    /// <summary>A1-style column letters and the row number, one-based (<c>B3</c>), into <paramref name="into"/>.</summary>
    private static int Address(Span<char> into, int column, int row)
    {
        if ((uint)column >= 16_384 || (uint)row >= 1_048_576)
        {
            throw new InvalidOperationException($"a malformed cell list: row {row}, column {column} is outside the grid");
        }

        Span<char> letters = stackalloc char[3];
        var count = 0;
        for (var n = column + 1; n > 0; n = (n - 1) / 26)
        {
            letters[count++] = (char)('A' + ((n - 1) % 26));
        }

        for (var i = 0; i < count; i++)
        {
            into[i] = letters[count - 1 - i];
        }

        (row + 1).TryFormat(into[count..], out var digits, provider: CultureInfo.InvariantCulture);
        return count + digits;
    }

    private static ulong ReadNumber(ReadOnlySpan<byte> data, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = data[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }

    private static string ReadText(ReadOnlySpan<byte> data, ref int at)
    {
        var length = (int)ReadNumber(data, ref at);
        var text = Encoding.UTF8.GetString(data.Slice(at, length));
        at += length;
        return text;
    }

    /// <summary>Puts cells together into a <see cref="CellList"/>.</summary>
    /// <param name="sheets">Each sheet's prefix as an address writes it (<c>Sheet1!</c>, <c>'Q1 plan'!</c>), by the index cells are added with.</param>
    public sealed class Builder(IReadOnlyList<string> sheets)
    {
        private readonly ArrayBufferWriter<byte> _buffer = new();
        private int _count;

        /// <summary>Cells added so far.</summary>
        public int Count => _count;

        /// <summary>Adds a cell: its sheet's index, zero-based row and column, its value and (when it is listed with it) its formula.</summary>
        public void Add(int sheet, int row, int column, SheetValue value, string? formula = null)
        {
            var span = _buffer.GetSpan(3 * 5 + 1 + 9 + 1);
            var at = 0;
            WriteNumber(span, ref at, (uint)sheet);
            WriteNumber(span, ref at, (uint)row);
            WriteNumber(span, ref at, (uint)column);
            span[at++] = (byte)value.Kind;
            if (value.Kind is SheetValueKind.Number or SheetValueKind.Boolean)
            {
                BinaryPrimitives.WriteDoubleLittleEndian(span[at..], value.Number);
                at += 8;
            }

            _buffer.Advance(at);
            if (value.Kind is SheetValueKind.Text or SheetValueKind.Error)
            {
                WriteText(value.Text ?? "");
            }

            if (formula is null)
            {
                _buffer.GetSpan(1)[0] = 0;
                _buffer.Advance(1);
            }
            else
            {
                _buffer.GetSpan(1)[0] = 1;
                _buffer.Advance(1);
                WriteText(formula);
            }

            _count++;
        }

        /// <summary>The list of the cells added.</summary>
        public CellList Build() => _count == 0 ? Empty : new CellList([.. sheets], _buffer.WrittenSpan.ToArray(), _count);

        private void WriteText(string text)
        {
            var length = Encoding.UTF8.GetByteCount(text);
            var span = _buffer.GetSpan(5 + length);
            var at = 0;
            WriteNumber(span, ref at, (uint)length);
            at += Encoding.UTF8.GetBytes(text, span[at..]);
            _buffer.Advance(at);
        }

        private static void WriteNumber(Span<byte> span, ref int at, uint value)
        {
            while (value >= 0x80)
            {
                span[at++] = (byte)(value | 0x80);
                value >>= 7;
            }

            span[at++] = (byte)value;
        }
    }
}

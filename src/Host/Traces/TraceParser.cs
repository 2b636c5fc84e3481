using System.Buffers.Text;
using Faultsim.Model.Addressing;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Traces;

/// <summary>
/// Parses the lines of a memory trace into accesses, a page at a time. Two formats, told apart line by line:
/// valgrind lackey's (<c>valgrind --tool=lackey --trace-mem=yes</c>: <c>I  ADDR,SIZE</c> for an instruction fetch,
/// <c> L</c>, <c> S</c>, <c> M ADDR,SIZE</c> for a load, a store, a modify — a load then a store; lines starting with
/// <c>==</c> are valgrind's own) and the simple <c>ADDR R|W</c> of Pin's pinatrace (also as it writes it,
/// <c>IP: R|W ADDR</c>; lines starting with <c>#</c> are comments). Addresses are hex, with or without 0x; a lackey size
/// is decimal. An access that spans two pages touches both.
/// </summary>
public static class TraceParser
{
    /// <summary>The largest access a lackey line may give (bytes): AVX-512 moves 64, a rep-prefixed string op at most a page.</summary>
    public const int MaxSize = 4096;

    /// <summary>What a well-formed line looks like, for the message of one that is not.</summary>
    public const string Formats =
        "a trace line is lackey's 'I  ADDR,SIZE' or ' L|S|M ADDR,SIZE', or pinatrace's 'ADDR R|W' (or 'IP: R|W ADDR'), addresses in hex; " +
        "lines starting with '==' or '#' are skipped";

    /// <summary>
    /// Parses one line (no line break) into <paramref name="into"/> from <paramref name="count"/> on, which it advances;
    /// <paramref name="into"/> must have room for the line's accesses (<see cref="MaxAccessesPerLine"/>). Returns null, or
    /// what is wrong with the line.
    /// </summary>
    public static string? Parse(ReadOnlySpan<byte> line, Span<TracedAccess> into, ref int count)
    {
        if (line.Length > 0 && line[^1] == (byte)'\r')
            line = line[..^1];
        if (line.IsEmpty || line[0] == (byte)'=' || line[0] == (byte)'#')
            return null;
        if (line[0] == (byte)'I')
            return Lackey(line[1..], AccessKind.Fetch, modify: false, into, ref count);
        if (line[0] == (byte)' ')
        {
            var rest = line.TrimStart((byte)' ');
            if (rest.IsEmpty)
                return null; // blank
            var kind = rest[0] switch
            {
                (byte)'L' => AccessKind.Read,
                (byte)'S' or (byte)'M' => AccessKind.Write,
                _ => (AccessKind?)null,
            };
            return kind is { } k ? Lackey(rest[1..], k, modify: rest[0] == (byte)'M', into, ref count) : "not an I, L, S or M access";
        }
        return Pinatrace(line, into, ref count);
    }

    /// <summary>The most accesses one line can give: a modify that spans two pages of the largest size is two loads and two stores.</summary>
    public const int MaxAccessesPerLine = 2 * (MaxSize / (int)VirtualAddress.PageSize + 1);

    private static string? Lackey(ReadOnlySpan<byte> text, AccessKind kind, bool modify, Span<TracedAccess> into, ref int count)
    {
        if (PlainLackey(text, kind, modify, into, ref count))
            return null;
        if (text.IsEmpty || text[0] != (byte)' ')
            return "expected a space after the access kind";
        text = text.TrimStart((byte)' ');
        var comma = text.IndexOf((byte)',');
        if (comma < 0)
            return "expected ADDR,SIZE";
        if (Hex(text[..comma]) is not { } address)
            return "the address is not a hex number";
        var sizeText = text[(comma + 1)..].TrimEnd((byte)' ');
        if (!Utf8Parser.TryParse(sizeText, out int size, out var used) || used != sizeText.Length || size < 1 || size > MaxSize)
            return $"the size is not a whole number from 1 to {MaxSize}";
        if (Beyond(address, size) is { } beyond)
            return beyond;
        if (modify)
            Touch(address, size, AccessKind.Read, into, ref count);
        Touch(address, size, kind, into, ref count);
        return null;
    }

    /// <summary>
    /// A lackey line as valgrind writes it — spaces, bare hex digits, a comma, decimal digits, nothing after — in one
    /// pass: most lines of a trace. False for anything else, which the general path parses (or says what is wrong).
    /// </summary>
    private static bool PlainLackey(ReadOnlySpan<byte> text, AccessKind kind, bool modify, Span<TracedAccess> into, ref int count)
    {
        var i = 0;
        while (i < text.Length && text[i] == (byte)' ')
            i++;
        if (i == 0)
            return false;
        ulong address = 0;
        var start = i;
        for (; i < text.Length && i - start < 16 && HexDigit(text[i]) is var digit and >= 0; i++)
            address = (address << 4) | (uint)digit;
        if (i == start || i >= text.Length || text[i] != (byte)',')
            return false;
        var size = 0;
        var sizeStart = ++i;
        for (; i < text.Length && i - sizeStart < 5; i++)
        {
            var d = text[i] - '0';
            if ((uint)d > 9)
                return false;
            size = size * 10 + d;
        }
        if (i != text.Length || i == sizeStart || size < 1 || size > MaxSize || address > VirtualAddress.UserEnd.Value - (ulong)size)
            return false;
        if (modify)
            Touch(address, size, AccessKind.Read, into, ref count);
        Touch(address, size, kind, into, ref count);
        return true;
    }

    private static int HexDigit(byte c)
    {
        var d = c - '0';
        if ((uint)d <= 9)
            return d;
        d = (c | 0x20) - 'a';
        return (uint)d <= 5 ? d + 10 : -1;
    }

    private static string? Pinatrace(ReadOnlySpan<byte> line, Span<TracedAccess> into, ref int count)
    {
        var space = line.IndexOf((byte)' ');
        if (space < 0)
            return "expected 'ADDR R|W'";
        var first = line[..space];
        var rest = line[(space + 1)..].Trim((byte)' ');
        ReadOnlySpan<byte> addressText, kindText;
        if (first.Length > 0 && first[^1] == (byte)':')
        {
            // IP: R|W ADDR, as pinatrace writes it: the instruction pointer, then the data access
            var gap = rest.IndexOf((byte)' ');
            if (gap < 0)
                return "expected 'IP: R|W ADDR'";
            kindText = rest[..gap];
            addressText = rest[(gap + 1)..].TrimStart((byte)' ');
        }
        else
        {
            addressText = first;
            kindText = rest;
        }
        if (Hex(addressText) is not { } address)
            return "the address is not a hex number";
        var kind = kindText.Length == 1 ? kindText[0] switch
        {
            (byte)'R' or (byte)'r' => AccessKind.Read,
            (byte)'W' or (byte)'w' => AccessKind.Write,
            _ => (AccessKind?)null,
        } : null;
        if (kind is not { } k)
            return "the access is not R or W";
        if (Beyond(address, 1) is { } beyond)
            return beyond;
        Touch(address, 1, k, into, ref count);
        return null;
    }

    /// <summary>Each page of [address, address + size): the first at the address, the next at their starts.</summary>
    private static void Touch(ulong address, int size, AccessKind kind, Span<TracedAccess> into, ref int count)
    {
        into[count++] = new TracedAccess(new VirtualAddress(address), kind);
        if (((address ^ (address + (ulong)size - 1)) >> VirtualAddress.PageShift) == 0)
            return; // within one page: most accesses
        var last = (address + (ulong)size - 1) >> VirtualAddress.PageShift;
        for (var page = (address >> VirtualAddress.PageShift) + 1; page <= last; page++)
            into[count++] = new TracedAccess(new VirtualAddress(page << VirtualAddress.PageShift), kind);
    }

    private static string? Beyond(ulong address, int size) =>
        address > VirtualAddress.UserEnd.Value - (ulong)size
            ? $"address 0x{address:x} (size {size}) is past the user address space (below 0x{VirtualAddress.UserEnd.Value:x}, 2^47)"
            : null;

    /// <summary>A hex number, with or without 0x, of at most 16 digits; null if it is not one.</summary>
    private static ulong? Hex(ReadOnlySpan<byte> text)
    {
        if (text.Length > 2 && text[0] == (byte)'0' && (text[1] | 0x20) == (byte)'x')
            text = text[2..];
        if (text.IsEmpty || text.Length > 16)
            return null;
        ulong value = 0;
        foreach (var c in text)
        {
            var digit = c switch
            {
                >= (byte)'0' and <= (byte)'9' => c - '0',
                >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
                _ => -1,
            };
            if (digit < 0)
                return null;
            value = (value << 4) | (uint)digit;
        }
        return value;
    }
}

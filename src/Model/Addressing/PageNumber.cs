using System.Globalization;

namespace Faultsim.Model.Addressing;

/// <summary>A virtual page number: the address shifted right by the page shift.</summary>
public readonly record struct PageNumber(ulong Value) : IComparable<PageNumber>
{
    public VirtualAddress BaseAddress => new(Value << VirtualAddress.PageShift);

    /// <summary>The 9-bit index into the table of <paramref name="level"/> for this page.</summary>
    public int Index(Level level) => (int)((Value >> (9 * (int)level)) & 511);

    public static PageNumber operator +(PageNumber p, ulong pages) => new(p.Value + pages);
    public static ulong operator -(PageNumber a, PageNumber b) => a.Value - b.Value;
    public static bool operator <(PageNumber a, PageNumber b) => a.Value < b.Value;
    public static bool operator >(PageNumber a, PageNumber b) => a.Value > b.Value;
    public static bool operator <=(PageNumber a, PageNumber b) => a.Value <= b.Value;
    public static bool operator >=(PageNumber a, PageNumber b) => a.Value >= b.Value;

    public int CompareTo(PageNumber other) => Value.CompareTo(other.Value);
    public override string ToString() => "page 0x" + Value.ToString("x", CultureInfo.InvariantCulture);
}

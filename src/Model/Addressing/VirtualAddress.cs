using System.Globalization;

namespace Faultsim.Model.Addressing;

/// <summary>A 64-bit x86-64 virtual address. Pages are 4 KiB; the page table has four levels.</summary>
public readonly record struct VirtualAddress(ulong Value) : IComparable<VirtualAddress>
{
    public const int PageShift = 12;
    public const ulong PageSize = 1UL << PageShift;
    public const ulong OffsetMask = PageSize - 1;

    /// <summary>First address above the user half of a canonical 48-bit address space.</summary>
    public static readonly VirtualAddress UserEnd = new(0x0000_8000_0000_0000);

    public PageNumber Page => new(Value >> PageShift);
    public ulong Offset => Value & OffsetMask;
    public bool IsUser => Value < UserEnd.Value;
    public bool IsPageAligned => Offset == 0;
    public VirtualAddress PageAlignedDown => new(Value & ~OffsetMask);

    /// <summary>The 9-bit index into the table of <paramref name="level"/> that translates this address.</summary>
    public int Index(Level level) => (int)((Value >> (PageShift + 9 * (int)level)) & 511);

    public static VirtualAddress operator +(VirtualAddress a, ulong bytes) => new(a.Value + bytes);
    public static VirtualAddress operator -(VirtualAddress a, ulong bytes) => new(a.Value - bytes);
    public static ulong operator -(VirtualAddress a, VirtualAddress b) => a.Value - b.Value;
    public static bool operator <(VirtualAddress a, VirtualAddress b) => a.Value < b.Value;
    public static bool operator >(VirtualAddress a, VirtualAddress b) => a.Value > b.Value;
    public static bool operator <=(VirtualAddress a, VirtualAddress b) => a.Value <= b.Value;
    public static bool operator >=(VirtualAddress a, VirtualAddress b) => a.Value >= b.Value;

    public int CompareTo(VirtualAddress other) => Value.CompareTo(other.Value);
    public override string ToString() => "0x" + Value.ToString("x", CultureInfo.InvariantCulture);
}

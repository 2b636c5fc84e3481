using Faultsim.Model.Addressing;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Workloads;

/// <summary>Who performs an access: the process itself, the kernel copying to or from user memory for a system call, or the kernel on its own.</summary>
public enum AccessMode
{
    /// <summary>A user-mode instruction.</summary>
    User,
    /// <summary>The kernel inside copy_to_user / copy_from_user (read(2) and write(2)): a bad pointer gives EFAULT.</summary>
    UserCopy,
    /// <summary>The kernel outside any user-copy region (a driver bug): a fault there is an oops.</summary>
    Kernel,
    /// <summary>
    /// The kernel forcing an access through /proc/PID/mem or ptrace (get_user_pages with FOLL_FORCE): it may write a
    /// private mapping the process cannot, through a private copy; a bad address gives EFAULT (<see cref="Faults.ForcedAccess"/>).
    /// </summary>
    Forced,
    /// <summary>
    /// The kernel faulting a page in for mlock or MAP_POPULATE (populate_vma_page_range → get_user_pages): it looks the
    /// page up in the page table itself, never the TLB, and faults it in — as a write in a private writable mapping (to
    /// break COW), else as a read (<see cref="Faults.PopulateAccess"/>) — then only touches it; it stores nothing.
    /// </summary>
    Populate,
}

/// <summary>What an access mode means to the fault path.</summary>
public static class AccessModes
{
    /// <summary>Whether a fault the kernel cannot resolve ends the access with EFAULT (a user copy, a forced access) rather than an oops.</summary>
    public static bool ReturnsEfault(this AccessMode mode) => mode is AccessMode.UserCopy or AccessMode.Forced or AccessMode.Populate;

    /// <summary>Whether the kernel looks the page up in the page table itself (get_user_pages' follow_page), never through the TLB.</summary>
    public static bool WalksPageTable(this AccessMode mode) => mode is AccessMode.Forced or AccessMode.Populate;
}

/// <summary>What madvise asks for.</summary>
public enum Advice
{
    /// <summary>MADV_DONTNEED: drop the pages; the next touch faults afresh.</summary>
    DontNeed,
    /// <summary>MADV_PAGEOUT: reclaim the pages now (swap out anonymous, drop clean file pages).</summary>
    PageOut,
    /// <summary>MADV_NORMAL: the default readahead again (a major fault reads the window around its page).</summary>
    Normal,
    /// <summary>MADV_SEQUENTIAL: a major fault reads ahead from its page on (VM_SEQ_READ).</summary>
    Sequential,
    /// <summary>MADV_RANDOM: a major fault reads its page alone, and markers read nothing ahead (VM_RAND_READ).</summary>
    Random,
    /// <summary>MADV_WILLNEED: read the range's file pages into the page cache now, in windows of the readahead maximum.</summary>
    WillNeed,
}

/// <summary>An address in a script: a region of the running process plus an offset, or an absolute address.</summary>
public readonly record struct AddressExpr(string? Region, long Offset)
{
    public static AddressExpr Absolute(ulong address) => new(null, (long)address);
    public override string ToString() =>
        Region is null ? new VirtualAddress((ulong)Offset).ToString()
        : Offset == 0 ? Region : Offset > 0 ? $"{Region}+0x{Offset:x}" : $"{Region}-0x{-Offset:x}";
}

/// <summary>What an access touches: one address, or pages First..Last of a region (each at the CPU's own word).</summary>
public abstract record AccessTarget
{
    private AccessTarget() { }

    public abstract long Count { get; }

    public sealed record At(AddressExpr Address) : AccessTarget
    {
        public override long Count => 1;
        public override string ToString() => Address.ToString();
    }

    public sealed record Pages(string Region, ulong First, ulong Last) : AccessTarget
    {
        public override long Count => (long)(Last - First + 1);
        public override string ToString() => First == Last ? $"{Region}:{First}" : $"{Region}:{First}..{Last}";
    }
}

/// <summary>A range in a script: a whole named region, or a start address and a length.</summary>
public sealed record RangeExpr(AddressExpr Start, ulong? Length)
{
    public override string ToString() => Length is { } l ? $"{Start} {l}" : Start.ToString();
}

/// <summary>One line of a CPU's script. <see cref="Line"/> is the line in the config file, for messages.</summary>
public abstract record Op(int Line)
{
    /// <summary>Switch this CPU to <paramref name="Process"/>; waits until the process exists (a fork may create it).</summary>
    public sealed record Run(int Line, string Process) : Op(Line);

    public sealed record Access(int Line, AccessKind Kind, AccessTarget Target, AccessMode Mode, ulong? Value) : Op(Line);

    public sealed record Map(int Line, string Name, AddressExpr Start, ulong Length, VmaFlags Flags, string? File, ulong FileOffset) : Op(Line);

    public sealed record Unmap(int Line, RangeExpr Range) : Op(Line);

    public sealed record Protect(int Line, RangeExpr Range, VmaFlags Protection) : Op(Line);

    public sealed record Advise(int Line, RangeExpr Range, Advice Advice) : Op(Line);

    /// <summary>mlock (<paramref name="Locks"/>) or munlock of a range; mlock then faults the range's pages in.</summary>
    public sealed record Lock(int Line, RangeExpr Range, bool Locks) : Op(Line);

    /// <summary>mremap of region <paramref name="Region"/> to <paramref name="NewLength"/> bytes; <paramref name="MayMove"/>: MREMAP_MAYMOVE.</summary>
    public sealed record Remap(int Line, string Region, ulong NewLength, bool MayMove) : Op(Line);

    public sealed record Fork(int Line, string Child) : Op(Line);

    public sealed record Exit(int Line) : Op(Line);

    /// <summary>Sets the saved user stack pointer, which decides how far the stack may grow.</summary>
    public sealed record SetStackPointer(int Line, AddressExpr Address) : Op(Line);

    /// <summary>Waits until every CPU whose script names this barrier has reached it as often.</summary>
    public sealed record Barrier(int Line, string Name) : Op(Line);

    /// <summary>
    /// Performs every access of <paramref name="Source"/> in order (a program's memory trace), each a user-mode access at its
    /// traced address; a store writes the CPU's next store value, as a store without a value does.
    /// </summary>
    public sealed record Replay(int Line, IAccessSource Source) : Op(Line);

    /// <summary>
    /// Carries out every operation of <paramref name="Source"/> in order, in its place, as if the script listed them here
    /// (a generated workload's operations, made as the CPU reaches them). A stream yields no streams.
    /// </summary>
    public sealed record Stream(int Line, IOpSource Source) : Op(Line)
    {
        public override string ToString() => $"stream {Source.Name}";
    }
}

using Faultsim.Model.Addressing;
using Faultsim.Model.PageTables;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Faults;

/// <summary>What the kernel knows about the frame a present PTE maps.</summary>
/// <param name="RefCount">References held: one per mapping PTE, plus one while in the page or swap cache.</param>
public readonly record struct FrameFacts(bool IsZeroPage, bool IsAnonymous, int RefCount);

/// <summary>The stack rules of a process: RLIMIT_STACK, the guard gap, and how far below SP an access may be.</summary>
/// <param name="Limit">RLIMIT_STACK in bytes: the most a grows-down VMA may span.</param>
/// <param name="GuardGap">Bytes kept free between a grown stack and the VMA below it (Linux: 256 pages).</param>
/// <param name="SpWindow">How far below the saved stack pointer an access may grow the stack; null: no such check (Linux's rule).</param>
public readonly record struct StackRules(ulong Limit, ulong GuardGap, ulong? SpWindow)
{
    /// <summary>
    /// The classic x86 window, 64 KiB + 256 bytes below the stack pointer (room for a PUSHA below SP), that Linux checked
    /// until 4.20 (2018); an option since (<c>machine.stack.sp-window = 65792</c>).
    /// </summary>
    public const ulong ClassicSpWindow = 65536 + 32 * sizeof(ulong);

    /// <summary>
    /// Linux's defaults: 8 MiB RLIMIT_STACK, a 1 MiB guard gap, and no check against the stack pointer — x86 dropped it
    /// in 2018, so any access within the stack's growth range grows it.
    /// </summary>
    public static readonly StackRules Linux = new(8UL << 20, 256 * VirtualAddress.PageSize, null);
}

/// <summary>Everything the fault decision reads: the hardware's report and the kernel's state, gathered beforehand.</summary>
public readonly record struct FaultInput
{
    /// <summary>The faulting address (CR2).</summary>
    public required VirtualAddress Address { get; init; }

    public required FaultErrorCode Code { get; init; }

    /// <summary>find_vma(address): the first VMA ending above the address; it may start above it (a stack below its VMA).</summary>
    public Vma? Vma { get; init; }

    /// <summary>End of the VMA just below <see cref="Vma"/>, for the stack guard gap.</summary>
    public VirtualAddress? PreviousVmaEnd { get; init; }

    /// <summary>The leaf PTE for the address; <see cref="Pte.None"/> where no table exists.</summary>
    public Pte Pte { get; init; }

    /// <summary>About the frame <see cref="Pte"/> maps, when present.</summary>
    public FrameFacts Frame { get; init; }

    /// <summary>The frame already holding the page: the page cache's for a file page, the swap cache's for a swapped-out one.</summary>
    public FrameNumber? CachedFrame { get; init; }

    /// <summary>Size in bytes of the file behind a file mapping.</summary>
    public ulong FileSize { get; init; }

    /// <summary>The file page has no content on disk yet — a shared-memory object's page never written out — so a fault makes a zeroed page of it.</summary>
    public bool FileHole { get; init; }

    /// <summary>The saved user stack pointer of the faulting context.</summary>
    public VirtualAddress StackPointer { get; init; }

    public StackRules Stack { get; init; }

    /// <summary>The kernel was inside a user-copy routine (copy_from_user / copy_to_user) with an exception-table entry.</summary>
    public bool InUserCopy { get; init; }

    /// <summary>A forced access (FOLL_FORCE: /proc/PID/mem, ptrace): the VMA is asked by <see cref="ForcedAccess.Permits"/>.</summary>
    public bool Forced { get; init; }

    /// <summary>A non-write fault (read or fetch) on an untouched private anonymous page maps the shared zero page.</summary>
    public bool ZeroPageEnabled { get; init; }
}

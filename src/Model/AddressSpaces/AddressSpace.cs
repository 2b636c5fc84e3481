using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Memory;
using Faultsim.Model.PageTables;
using Faultsim.Model.Shootdowns;
using Faultsim.Model.Storage;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Model.AddressSpaces;

/// <summary>
/// One address space (Linux's mm_struct): its VMAs, its page table and the CPUs that have run it.
/// Operations change VMAs and PTEs and return the PTEs they changed; frames, swap slots and TLB
/// shootdowns are the caller's to settle, because other owners hold those.
/// </summary>
public sealed class AddressSpace(Asid asid)
{
    public Asid Asid { get; } = asid;
    public VmaTree Vmas { get; private init; } = new();
    public PageTable Pages { get; } = new();
    public CpuMask Cpus { get; } = new();

    /// <summary>
    /// switch_mm: <paramref name="cpu"/> runs this address space from now on, so it may cache its translations and is a
    /// target of its shootdowns from then on — joined before the CPU's first access, never after (both engines call it
    /// at the switch, so their masks, and so their shootdown targets, are one).
    /// </summary>
    public void SwitchIn(CpuId cpu) => Cpus.Add(cpu);

    /// <summary>Its shootdown rounds in flight (mm->tlb_flush_pending): what a TLB may still cache though the page table no longer holds it.</summary>
    public PendingFlushes FlushesPending { get; } = new();

    /// <summary>The PTE flags a fault installs for <paramref name="vma"/>; <paramref name="writable"/> when the page may be written now.</summary>
    public static PteFlags FlagsFor(Vma vma, bool writable) =>
        PteFlags.User | PteFlags.Accessed
        | (writable && vma.CanWrite ? PteFlags.Writable | PteFlags.Dirty : PteFlags.None)
        | (vma.CanExec ? PteFlags.None : PteFlags.NoExecute)
        | (vma.IsAccessible ? PteFlags.None : PteFlags.ProtNone); // a forced write's copy in a PROT_NONE mapping

    /// <summary>
    /// A page-table walk for an access, as both engines make it — the MMU's on a TLB miss, or the kernel's own lookup
    /// (follow_page) for a forced access or a populate: the PTE, the kind the access is faulted as (a populate's, as its
    /// VMA needs it), and whether the PTE lets it through without a fault.
    /// </summary>
    public AccessWalk Walk(VirtualAddress address, AccessKind kind, AccessMode mode, bool smap)
    {
        var pte = Pages[address.Page];
        switch (mode)
        {
            case AccessMode.Populate:
                var populate = PopulateAccess.KindFor(Vmas.Find(address));
                return new(pte, populate, PopulateAccess.Allows(pte, populate));
            case AccessMode.Forced:
                return new(pte, kind, ForcedAccess.Allows(pte, kind, Vmas.Find(address)));
            default:
                return new(pte, kind, AccessCheck.Allows(pte, kind, mode, smap));
        }
    }

    /// <summary>
    /// What this address space tells the fault decision about a fault at <paramref name="address"/>: the VMA,
    /// the one below it, the PTE, and the file size behind a file mapping. Memory facts (frame reference
    /// counts, caches) are the caller's to add.
    /// </summary>
    public FaultInput FaultInputFor(VirtualAddress address, FaultErrorCode code, VirtualAddress stackPointer,
        StackRules stack, bool inUserCopy, bool zeroPage, Func<FileId, ulong> fileSize, bool forced = false)
    {
        var vma = Vmas.Find(address);
        return new FaultInput
        {
            Address = address,
            Code = code,
            Vma = vma,
            PreviousVmaEnd = vma is null ? null : Vmas.Previous(vma)?.End,
            Pte = Pages[address.Page],
            FileSize = vma is { Backing: Backing.File file } ? fileSize(file.Id) : 0,
            StackPointer = stackPointer,
            Stack = stack,
            InUserCopy = inUserCopy,
            Forced = forced,
            ZeroPageEnabled = zeroPage,
        };
    }

    /// <summary>The lowest address a mapping may start at (Linux's vm.mmap_min_addr, 64 KiB by default): page 0 stays unmapped.</summary>
    public static readonly VirtualAddress MmapMinAddr = new(0x1_0000);

    /// <summary>Whether mmap(MAP_FIXED) may map <paramref name="length"/> bytes at <paramref name="start"/>; else it fails with EINVAL.</summary>
    public static bool CanMap(VirtualAddress start, ulong length) => MapRefusal(start, length) is null;

    /// <summary>
    /// Why mmap(MAP_FIXED) may not map <paramref name="length"/> bytes at <paramref name="start"/>, or null when it may: the
    /// start is not page-aligned, the length is not a positive number of pages, the start is below mmap_min_addr, or the
    /// end wraps past 2^64 or lies beyond the user address space (2^47).
    /// </summary>
    public static string? MapRefusal(VirtualAddress start, ulong length)
    {
        if (!start.IsPageAligned)
            return $"starts at 0x{start.Value:x}, which is not page-aligned";
        if (length == 0 || length % VirtualAddress.PageSize != 0)
            return $"is {length} bytes long; map a positive multiple of the 4K page size";
        if (start.Value < MmapMinAddr.Value)
            return $"starts at 0x{start.Value:x}, below mmap_min_addr (0x{MmapMinAddr.Value:x}): Linux maps nothing in the first 64K";
        if (start.Value + length < start.Value)
            return $"ends past 2^64 (0x{start.Value:x} + 0x{length:x} wraps around)";
        if (start.Value + length > VirtualAddress.UserEnd.Value)
            return $"ends at 0x{start.Value + length:x}, past the user address space (0x{VirtualAddress.UserEnd.Value:x}, 2^47)";
        return null;
    }

    /// <summary>mmap(MAP_FIXED): maps <paramref name="vma"/>, unmapping what was there.</summary>
    public IReadOnlyList<PteChange> Map(Vma vma)
    {
        var changes = Zap(vma.FirstPage, vma.EndPage);
        Vmas.Map(vma);
        return changes;
    }

    /// <summary>munmap: removes the VMAs and PTEs of [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public IReadOnlyList<PteChange> Unmap(VirtualAddress start, VirtualAddress end)
    {
        Vmas.Unmap(start, end);
        return Zap(start.Page, end.Page);
    }

    /// <summary>madvise(MADV_DONTNEED): drops the PTEs, keeps the VMAs; the next touch faults afresh.</summary>
    public IReadOnlyList<PteChange> DontNeed(VirtualAddress start, VirtualAddress end) => Zap(start.Page, end.Page);

    /// <summary>
    /// madvise(MADV_NORMAL, MADV_SEQUENTIAL, MADV_RANDOM): the read advice of the range's VMAs (<see cref="AdviceFlags"/>);
    /// no PTE changes. False when part of the range is unmapped (ENOMEM), changing nothing.
    /// </summary>
    public bool Advise(VirtualAddress start, VirtualAddress end, Advice advice) => Vmas.Advise(start, end, AdviceFlags(advice)) is not null;

    /// <summary>The VMA read-advice bits an madvise sets: VM_SEQ_READ, VM_RAND_READ, or neither (MADV_NORMAL).</summary>
    public static VmaFlags AdviceFlags(Advice advice) => advice switch
    {
        Advice.Sequential => VmaFlags.SequentialRead,
        Advice.Random => VmaFlags.RandomRead,
        Advice.Normal => VmaFlags.None,
        _ => throw new ArgumentOutOfRangeException(nameof(advice), advice, "not a read advice"),
    };

    /// <summary>
    /// madvise(MADV_WILLNEED) over [<paramref name="start"/>, <paramref name="end"/>): the readahead windows of the file
    /// pages its file mappings cover (<see cref="Readahead.WillNeed"/>), in address order. Anonymous and shared-memory
    /// mappings read nothing ahead here.
    /// </summary>
    public IReadOnlyList<ReadaheadWindow> WillNeed(VirtualAddress start, VirtualAddress end, Func<FileId, ulong> fileSize, ReadaheadRules rules)
    {
        var windows = new List<ReadaheadWindow>();
        foreach (var vma in Vmas.Overlapping(start, end))
        {
            if (vma.Backing is not Backing.File file || file.Shmem)
                continue;
            var from = vma.FilePageOf((vma.Start > start ? vma.Start : start).Page)!.Value.Index;
            var to = vma.FilePageOf(new PageNumber((vma.End < end ? vma.End : end).Page.Value - 1))!.Value.Index + 1;
            windows.AddRange(Readahead.WillNeed(file.Id, from, to, fileSize(file.Id), rules));
        }
        return windows;
    }

    /// <summary>
    /// mprotect: sets the protection of the range. Present PTEs lose what the new protection forbids
    /// at once; what it newly allows is granted on the next fault (a write upgrades through do_wp_page) —
    /// except write for the PTEs <see cref="InstallRules.WritableOnProtect"/> makes writable at once (Linux
    /// since 5.19), which then take no fault. Returns null when part of the range is unmapped (ENOMEM),
    /// changing nothing.
    /// </summary>
    public IReadOnlyList<PteChange>? Protect(VirtualAddress start, VirtualAddress end, VmaFlags protection)
    {
        if (Vmas.Protect(start, end, protection) is not { } pieces)
            return null;
        var changes = new List<PteChange>();
        var piece = 0;
        foreach (var (page, old) in Pages.Entries(start.Page, end.Page))
        {
            if (!old.HoldsFrame)
                continue;
            while (!pieces[piece].Contains(page.BaseAddress))
                piece++;
            var updated = Reprotect(old, protection, pieces[piece].IsShared, pieces[piece].WantsWriteNotify);
            if (updated != old)
            {
                Pages[page] = updated;
                changes.Add(new PteChange(page, old, updated));
            }
        }
        return changes;
    }

    /// <summary>
    /// mlock (<paramref name="locked"/>) or munlock of [<paramref name="start"/>, <paramref name="end"/>): sets or clears
    /// VM_LOCKED on its VMAs and returns the frames its PTEs map now (never the zero page), which memory locks or unlocks
    /// (mlock_vma_folio / munlock_folio) — the pages not yet in memory are the populate's to fault in, and a fault in a
    /// locked VMA locks its frame as it maps it. Null when part of the range is unmapped (ENOMEM), changing nothing.
    /// </summary>
    public IReadOnlyList<(PageNumber Page, FrameNumber Frame)>? Lock(VirtualAddress start, VirtualAddress end, bool locked)
    {
        if (end <= start)
            return []; // no bytes: nothing to do, and it succeeds
        if (Vmas.SetLocked(start, end, locked) is null)
            return null;
        return [.. Pages.Entries(start.Page, end.Page)
            .Where(e => e.Pte.HoldsFrame && e.Pte.Frame != FrameNumber.Zero)
            .Select(e => (e.Page, e.Pte.Frame))];
    }

    /// <summary>
    /// madvise(<paramref name="advise"/>): which advice does what. The refusal comes first (<see cref="AdviseRefusal"/>);
    /// then this address space does its part (the zap, the read advice) and tells what is memory's (the windows to read,
    /// the frames to page out).
    /// </summary>
    public AdviceEffect Madvise(SystemCall.Madvise advise, Func<FileId, ulong> fileSize, ReadaheadRules rules)
    {
        var (start, end) = (advise.Start, advise.End);
        if (AdviseRefusal(start, end, advise.Advice) is { } error)
            return new AdviceEffect.Refused(error);
        return advise.Advice switch
        {
            Advice.DontNeed => new AdviceEffect.Zapped(DontNeed(start, end)),
            Advice.PageOut => new AdviceEffect.PageOut([.. Pages.Entries(start.Page, end.Page)
                .Where(e => e.Pte.IsPresent && e.Pte.Frame != FrameNumber.Zero).Select(e => e.Pte.Frame)]),
            Advice.WillNeed => new AdviceEffect.ReadAhead(WillNeed(start, end, fileSize, rules)),
            _ => Advise(start, end, advise.Advice) ? AdviceEffect.ReadAdviceSet.Instance : new AdviceEffect.Refused("ENOMEM"),
        };
    }

    /// <summary>
    /// Why madvise(<paramref name="advice"/>) of [<paramref name="start"/>, <paramref name="end"/>) fails, or null when it
    /// may go on: ENOMEM when part of the range is unmapped; EINVAL when a VMA of it is locked, for the advice that drops or
    /// reclaims pages (MADV_DONTNEED, MADV_PAGEOUT: Linux refuses VM_LOCKED VMAs).
    /// </summary>
    public string? AdviseRefusal(VirtualAddress start, VirtualAddress end, Workloads.Advice advice)
    {
        if (!Vmas.IsFullyMapped(start, end))
            return "ENOMEM";
        if (advice is Workloads.Advice.DontNeed or Workloads.Advice.PageOut
            && Vmas.Overlapping(start, end).Any(v => v.IsLocked))
            return "EINVAL";
        return null;
    }

    /// <summary>
    /// mremap of [<paramref name="call"/>.Start, + Length) to NewLength bytes, as Linux's does it: the old range must lie in
    /// one VMA (else EFAULT); a shrink unmaps the tail; a growth extends the VMA in place when the range ends its VMA and
    /// the pages after it are free (and within the user address space); otherwise, with MREMAP_MAYMOVE, the range moves —
    /// its VMA piece and its PTEs (move_vma, move_ptes) — to the lowest free range above its VMA that fits, and without it
    /// the call fails with ENOMEM. A locked region stays locked and the part a growth adds is faulted in
    /// (<see cref="RemapResult.PopulateFrom"/>). Null with <paramref name="error"/> when it fails, changing nothing.
    /// </summary>
    public Remapping? Remap(Workloads.SystemCall.Mremap call, out string? error)
    {
        error = null;
        var (start, oldEnd) = (call.Start, call.Start + call.Length);
        var newEnd = call.Start.Value + call.NewLength;
        if (Vmas.FindContaining(start) is not { } vma || vma.End < oldEnd)
        {
            error = "EFAULT";
            return null;
        }
        if (newEnd <= oldEnd.Value)
        {
            var dropped = Unmap(new VirtualAddress(newEnd), oldEnd);
            return new Remapping(new RemapResult(start, default, default), dropped, dropped, [], vma.IsLocked);
        }
        var populate = vma.IsLocked;
        if (vma.End == oldEnd && newEnd <= VirtualAddress.UserEnd.Value && Vmas.IsFree(oldEnd, new VirtualAddress(newEnd)))
        {
            Vmas.Extend(vma, new VirtualAddress(newEnd));
            return new Remapping(new RemapResult(start, populate ? oldEnd : default, populate ? new VirtualAddress(newEnd) : default), [], [], [], vma.IsLocked);
        }
        if (!call.MayMove || Vmas.FreeRangeAbove(vma.End, call.NewLength) is not { } to)
        {
            error = "ENOMEM";
            return null;
        }
        var piece = Vmas.Unmap(start, oldEnd)[0];
        Vmas.Map(piece with { Start = to, End = to + call.NewLength });
        var changes = new List<PteChange>();
        var moves = new List<PageMove>();
        foreach (var (page, pte) in Pages.Entries(start.Page, oldEnd.Page))
        {
            changes.Add(new PteChange(page, pte, Pte.None));
            moves.Add(new PageMove(page, to.Page + (page - start.Page), pte));
        }
        foreach (var move in moves)
        {
            Pages[move.From] = Pte.None;
            Pages[move.To] = move.Pte;
        }
        var grownFrom = to + call.Length;
        return new Remapping(new RemapResult(to, populate ? grownFrom : default, populate ? to + call.NewLength : default), changes, [], moves, vma.IsLocked);
    }

    /// <summary>
    /// fork: a copy of this address space under <paramref name="childAsid"/>. Every VMA is copied; PTEs only where Linux's
    /// copy_page_range copies them (vma_needs_copy): in a VMA that has had anonymous pages
    /// (<see cref="Vma.HasAnonymousPages"/>). Elsewhere — a file mapping without anonymous pages, a shared mapping, an
    /// anonymous one that only mapped the zero page — the child starts with no PTEs and its faults fill them again.
    /// Private pages it copies become copy-on-write in both (write-protected, marked COW). Returns the child and the
    /// parent's PTEs that lost their write permission (they need a shootdown). The caller adds a frame reference or swap
    /// reference for each of the child's entries.
    /// </summary>
    public (AddressSpace Child, IReadOnlyList<PteChange> ParentChanges) Fork(Asid childAsid)
    {
        var child = new AddressSpace(childAsid) { Vmas = Vmas.Clone() };
        var changes = new List<PteChange>();
        foreach (var vma in Vmas.All)
        {
            if (!vma.HasAnonymousPages)
                continue;
            foreach (var (page, pte) in Pages.Entries(vma.FirstPage, vma.EndPage))
            {
                var shared = pte;
                if (!vma.IsShared && pte.HoldsFrame)
                {
                    shared = pte.Without(PteFlags.Writable).With(PteFlags.Cow);
                    if (shared != pte)
                    {
                        Pages[page] = shared;
                        changes.Add(new PteChange(page, pte, shared));
                    }
                }
                child.Pages[page] = shared;
            }
        }
        return (child, changes);
    }

    /// <summary>Process exit: every VMA and PTE goes.</summary>
    public IReadOnlyList<PteChange> Teardown() =>
        Vmas.Count == 0 ? [] : Unmap(Vmas.All[0].Start, Vmas.All[^1].End);

    /// <summary>
    /// Installs <paramref name="pte"/> for <paramref name="page"/>, returning what it replaced; a PTE that brings its VMA an
    /// anonymous page marks the VMA (<see cref="InstallRules.MakesAnonymous"/>).
    /// </summary>
    public PteChange Install(PageNumber page, Pte pte)
    {
        var old = Pages[page];
        Pages[page] = pte;
        if (pte.HoldsFrame && Vmas.FindContaining(page.BaseAddress) is { HasAnonymousPages: false } vma && InstallRules.MakesAnonymous(vma, pte))
            Vmas.MarkAnonymous(vma);
        return new PteChange(page, old, pte);
    }

    private IReadOnlyList<PteChange> Zap(PageNumber from, PageNumber to)
    {
        var changes = new List<PteChange>();
        foreach (var (page, old) in Pages.Entries(from, to))
            changes.Add(new PteChange(page, old, Pte.None));
        foreach (var change in changes)
            Pages[change.Page] = Pte.None;
        return changes;
    }

    private static Pte Reprotect(Pte pte, VmaFlags protection, bool shared, bool writeNotify)
    {
        var accessible = (protection & VmaFlags.Protection) != 0;
        var updated = pte;
        if (!accessible)
            return new Pte((updated.Raw & ~(ulong)PteFlags.Present) | (ulong)PteFlags.ProtNone);
        if (updated.Has(PteFlags.ProtNone))
            updated = updated.Without(PteFlags.ProtNone).With(PteFlags.Present);
        if ((protection & VmaFlags.Write) == 0)
            updated = updated.Without(PteFlags.Writable);
        else if (InstallRules.WritableOnProtect(updated, shared, writeNotify))
            updated = updated.With(PteFlags.Writable);
        return (protection & VmaFlags.Exec) != 0
            ? updated.Without(PteFlags.NoExecute)
            : updated.With(PteFlags.NoExecute);
    }
}

/// <summary>What a walk for an access found: the PTE, the kind the access is faulted as, and whether it may go through.</summary>
public readonly record struct AccessWalk(Pte Pte, AccessKind Kind, bool Allowed);

using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Faults;
using Faultsim.Model.Frames;
using Faultsim.Model.Memory;
using Faultsim.Model.PageTables;
using Faultsim.Model.Shootdowns;
using Faultsim.Model.Storage;
using Faultsim.Model.Tlbs;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Model.Machine;

// The access and fault path of the reference machine: TLB, walk, fault decision, and applying
// the decision to frames, page tables, swap and TLBs, in the order a kernel must keep.
public sealed partial class ReferenceMachine
{
    /// <summary>How an access or one fault of it ended: Retry after a resolved fault, Again after one the state changed under.</summary>
    private enum Outcome { Done, Retry, Again, Killed, Efault, Panicked }

    /// <summary>One access, retried after each fault until it completes or the fault ends it.</summary>
    private Outcome Access(CpuState cpu, ProcessState process, VirtualAddress address, AccessKind kind, AccessMode mode, ulong value)
    {
        var mm = process.Mm;
        var page = address.Page;
        var resolutions = 0;
        while (true)
        {
            var (found, cachedEntryForbade) = (default(Pte), false); // what raises the fault: the walk's PTE, or the TLB's entry
            if (mode.WalksPageTable())
            {
                var (pte, walked, allowed) = mm.Walk(address, kind, mode, _spec.Smap); // follow_page: the kernel's own lookup, not the TLB's
                kind = walked; // a populate's: faulted as it needs the page; only touched after
                if (allowed)
                {
                    var touch = mode == AccessMode.Populate ? AccessKind.Read : kind;
                    Perform(process, new Translation(pte.Frame, _memory.Frames.GenerationTag(pte.Frame), pte.Flags), address, touch, value);
                    return Outcome.Done;
                }
                found = pte;
            }
            else if (cpu.Tlb.TryLookup(mm.Asid, page, out var cached))
            {
                process.Counters.TlbHits++;
                if (cached.Allows(kind, mode, _spec.Smap))
                {
                    Perform(process, cached, address, kind, value);
                    return Outcome.Done;
                }
                cachedEntryForbade = true; // a protection fault raised from the cached entry
            }
            else
            {
                process.Counters.TlbMisses++;
                var (pte, _, allowed) = mm.Walk(address, kind, mode, _spec.Smap);
                if (allowed)
                {
                    var fill = new Translation(pte.Frame, _memory.Frames.GenerationTag(pte.Frame), pte.Flags);
                    cpu.Tlb.Fill(mm.Asid, page, fill);
                    Perform(process, fill, address, kind, value);
                    return Outcome.Done;
                }
                found = pte;
            }
            var input = GatherFaultInput(cpu, mm, address, FaultErrorCode.Raised(kind, mode, cachedEntryForbade, found), mode);
            switch (Apply(cpu, process, input, FaultHandler.Resolve(input)))
            {
                case Outcome.Retry:
                    FaultHandler.Resolved(ref resolutions, cpu.Id, address);
                    break;
                case Outcome.Again:
                    break;
                case var ended:
                    return ended;
            }
        }
    }

    private void Perform(ProcessState process, Translation translation, VirtualAddress address, AccessKind kind, ulong value)
    {
        if (!_memory.Access(translation.Frame, translation.Generation, new PageKey(process.Mm.Asid, address.Page), address.Offset, kind == AccessKind.Write, value, out _))
            throw new InvalidOperationException($"stale translation used: {translation.Frame} was freed after it was cached");
        process.Counters.Accesses++;
    }

    private FaultInput GatherFaultInput(CpuState cpu, AddressSpace mm, VirtualAddress address, FaultErrorCode code, AccessMode mode)
    {
        var f = mm.FaultInputFor(address, code, cpu.StackPointer, _spec.Stack, mode.ReturnsEfault(), _spec.ZeroPage, _fileTable.Size,
            forced: mode == AccessMode.Forced);
        return _memory.Complete(f);
    }

    private Outcome Apply(CpuState cpu, ProcessState process, in FaultInput f, Resolution resolution)
    {
        var counters = process.Counters;
        var mm = process.Mm;
        var page = f.Address.Page;
        var effect = FaultEffect.Of(resolution, f);
        // do_async_mmap_readahead: a fault that finds its file page cached reads the next window first if the page is marked
        var readAhead = resolution is Resolution.PageCacheHit { FromSwapCache: false } ? ReadAfterMarker(process, f) : null;
        switch (effect)
        {
            case FaultEffect.FlushLocal:
                cpu.Tlb.Invalidate(mm.Asid, page);
                break;
            case FaultEffect.Install install:
                if (install.GrowTo is { } start)
                    mm.Vmas.GrowDown(f.Vma!, start);
                mm.Install(page, install.Pte);
                if (f.Pte.IsPresent)
                    cpu.Tlb.Invalidate(mm.Asid, page); // a COW reuse: other CPUs' read-only entries only cause spurious faults
                break;
            case FaultEffect.AllocateZeroed zeroed:
                var target = zeroed.GrowTo is { } newStart ? mm.Vmas.GrowDown(f.Vma!, newStart) : f.Vma!;
                if (!InstallZeroed(cpu, process, f, target, zeroed, out var oom))
                    return oom ? Outcome.Killed : Lost(process, f);
                break;
            case FaultEffect.ZeroInPageCache shared:
                if (ZeroInPageCache(cpu, process, f) is not { } zeroedShared)
                    return Outcome.Killed;
                Map(mm, new PageKey(mm.Asid, page), zeroedShared, shared.FlagsFor(f.Vma!, f.Code.Access, exclusive: false));
                break;
            case FaultEffect.MapCached cached:
                if (MapFrame(cpu, process, f, cached.Frame, cached) is { } cachedOutcome)
                    return cachedOutcome;
                break;
            case FaultEffect.Copy { BreaksCow: false } copy:
                if (CopyPrivately(cpu, process, f, copy.Source, copy) is { } copyOutcome)
                    return copyOutcome;
                break;
            case FaultEffect.Copy cow:
                if (BreakCow(cpu, process, f, cow) is { } cowOutcome)
                    return cowOutcome;
                break;
            case FaultEffect.Read read:
                if (ReadIn(cpu, process, f, read.Source, out var failed) is not { } frame)
                {
                    if (!failed)
                        return Outcome.Killed; // no frame for the read (every other one locked): the OOM killer, and nothing read
                    counters.DiskReads++;
                    return Apply(cpu, process, f, FaultHandler.FailedRead(f));
                }
                counters.DiskReads++;
                if ((read.CopyForWrite ? CopyPrivately(cpu, process, f, frame, read) : MapFrame(cpu, process, f, frame, read)) is { } readOutcome)
                    return readOutcome;
                break;
            case FaultEffect.Kill kill:
                counters.CountFault(resolution);
                EndProcess(cpu, process, kill.Fate);
                return Outcome.Killed;
            case FaultEffect.Fixup:
                counters.CountFault(resolution);
                return Outcome.Efault;
            case FaultEffect.Panic panic:
                counters.CountFault(resolution);
                _panic = Resolution.KernelOops.Panic(cpu.Id, process.Name, panic.Reason);
                return Outcome.Panicked;
        }
        MapAround(process, f, effect, readAhead);
        counters.CountFault(resolution);
        return Outcome.Retry;
    }

    /// <summary>
    /// Fault-around: the cached neighbours of a read fault's page in its window are mapped where their PTE is empty, without
    /// a fault of their own (and not those <paramref name="readAhead"/> named: the fault's own marker read them, in flight
    /// while it mapped around).
    /// </summary>
    private void MapAround(ProcessState process, in FaultInput f, FaultEffect effect, IReadOnlySet<FilePage>? readAhead)
    {
        if (f.Vma is not { } vma)
            return;
        var mm = process.Mm;
        var flags = InstallRules.AroundPage(vma);
        foreach (var (page, frame) in _memory.AroundFault(f.Address, f.Code.Access, vma, f.FileSize, effect, readAhead))
        {
            if (MemoryManager.MapsAround(mm.Pages[page]))
                Map(mm, new PageKey(mm.Asid, page), frame, flags);
        }
    }

    /// <summary>A hit on a marked page (PG_readahead) reads the next window, in one disk request memory counts for the process.</summary>
    private HashSet<FilePage>? ReadAfterMarker(ProcessState process, in FaultInput f)
    {
        var page = f.Vma!.FilePageOf(f.Address.Page)!.Value;
        return _memory.HitMarker(page, f.FileSize, f.Vma.Flags) is { } window ? ReadAhead(process, window, except: null, counted: true) : null;
    }

    /// <summary>
    /// Reads <paramref name="window"/>'s pages that are not cached (besides <paramref name="except"/>, read by the fault's own
    /// reservation) into free frames, in one request: <paramref name="counted"/> when it is a request of its own (a marker's
    /// hit, MADV_WILLNEED) rather than part of a major fault's. A page whose read fails is left out of the cache.
    /// </summary>
    private HashSet<FilePage>? ReadAhead(ProcessState process, ReadaheadWindow window, FilePage? except, bool counted)
    {
        var reserved = _memory.ReserveAhead(window, except, counted ? process.Pid : null);
        if (reserved.Count == 0)
            return null;
        var read = new HashSet<FilePage>();
        var content = new ulong[_spec.WordsPerPage];
        foreach (var (page, frame) in reserved)
        {
            var source = new PageSource.FromFile(page);
            if (_readErrors.FailsAhead(page))
            {
                _memory.CancelRead(frame, source);
                continue;
            }
            _files.Read(page, content);
            _memory.FillRead(frame, source, content);
            _memory.Activate(frame);
            read.Add(page);
        }
        return read;
    }

    /// <summary>
    /// The PTE the fault was decided on changed before its install (reclaim took the page while the fault made room):
    /// nothing is installed and the access retries, the fault counted as the model counts a lost race.
    /// </summary>
    private Outcome Lost(ProcessState process, in FaultInput f)
    {
        if (FaultHandler.LostRace(f.Pte, process.Mm.Pages[f.Address.Page], vmaOrSharingChanged: false) is not { } lost)
            return Outcome.Again;
        process.Counters.CountFault(lost);
        return Outcome.Retry;
    }

    /// <summary>Demand-zero: a fresh zeroed frame, the process's alone.</summary>
    private bool InstallZeroed(CpuState cpu, ProcessState process, in FaultInput f, Vma vma, FaultEffect effect, out bool oom)
    {
        oom = false;
        var key = new PageKey(process.Mm.Asid, f.Address.Page);
        if (!MakeRoom(cpu, process))
        {
            oom = true;
            return false;
        }
        if (process.Mm.Pages[key.Page] != f.Pte)
            return false; // reclaim changed the page meanwhile: fault again
        Map(process.Mm, key, _memory.NewZeroed(process.Pid), effect.FlagsFor(vma, f.Code.Access, exclusive: true));
        return true;
    }

    /// <summary>
    /// Maps a page already in memory (page cache, swap cache, or just read in) with the flags <paramref name="effect"/> gives
    /// it — or, for a write to a swapped-in page others still share, a private copy of it (the COW inside do_swap_page).
    /// </summary>
    private Outcome? MapFrame(CpuState cpu, ProcessState process, in FaultInput f, FrameNumber frame, FaultEffect effect)
    {
        var mm = process.Mm;
        var key = new PageKey(mm.Asid, f.Address.Page);
        var fromSwap = effect is FaultEffect.MapCached { FromSwapCache: true } or FaultEffect.Read { Source: PageSource.FromSwap };
        // do_swap_page: the PTE is writable at once if it alone names the slot; then it gives the slot up.
        var exclusive = fromSwap && _memory.SwapInExclusive(f.Pte.Slot, frame);
        if (effect.CopiesOnSwapIn(f.Vma!, f.Code.Access, exclusive))
        {
            if (CopyPrivately(cpu, process, f, frame, effect) is { } copyOutcome)
                return copyOutcome;
        }
        else
            Map(mm, key, frame, effect.FlagsFor(f.Vma!, f.Code.Access, exclusive));
        if (fromSwap)
            _memory.DropSwapEntry(f.Pte.Slot);
        return null;
    }

    /// <summary>
    /// A private write to a cached file page (do_cow_fault), or to a swapped-in page others share: the process gets its own
    /// copy, keeping the source meanwhile.
    /// </summary>
    private Outcome? CopyPrivately(CpuState cpu, ProcessState process, in FaultInput f, FrameNumber source, FaultEffect effect)
    {
        if (!MakeRoom(cpu, process, keep: source))
            return Outcome.Killed;
        Map(process.Mm, new PageKey(process.Mm.Asid, f.Address.Page), _memory.NewCopy(source, process.Pid), effect.FlagsFor(f.Vma!, f.Code.Access, exclusive: false));
        return null;
    }

    /// <summary>A shared-memory page never written out: a zeroed frame in its page cache, for every process that maps it.</summary>
    private FrameNumber? ZeroInPageCache(CpuState cpu, ProcessState process, in FaultInput f)
    {
        if (!MakeRoom(cpu, process))
            return null;
        var frame = _memory.ReserveRead(new PageSource.FromFile(f.Vma!.FilePageOf(f.Address.Page)!.Value));
        _memory.FillHole(frame, process.Pid);
        _memory.Activate(frame);
        return frame;
    }

    /// <summary>
    /// The disk read of a major fault: a new frame filled from the file or swap, entered in the page or swap cache — for a
    /// file page with its readahead window (do_sync_mmap_readahead), in the same request, the window's pages first.
    /// </summary>
    /// <summary>
    /// A major fault's read: room made for its frame, which is reserved, then the read — null when there is no room (the
    /// OOM killer), or when the read fails (<paramref name="failed"/>: as Linux allocates the folio before the I/O, the
    /// room was made first), and then nothing is read ahead either.
    /// </summary>
    private FrameNumber? ReadIn(CpuState cpu, ProcessState process, in FaultInput f, PageSource source, out bool failed)
    {
        failed = false;
        if (!MakeRoom(cpu, process))
            return null;
        var frame = _memory.ReserveRead(source);
        if (_readErrors.FailsDemanded((source as PageSource.FromFile)?.Page, _random.NextDouble))
        {
            _memory.CancelRead(frame, source);
            failed = true;
            return null;
        }
        Span<ulong> content = stackalloc ulong[_spec.WordsPerPage];
        if (source is PageSource.FromFile file)
        {
            ReadAhead(process, Readahead.ForMajorFault(file.Page, f.FileSize, f.Vma!.Flags, _memory.ReadaheadRules, _memory.IsShmem(file.Page.File)), file.Page, counted: false);
            _files.Read(file.Page, content);
        }
        _memory.FillRead(frame, source, content);
        _memory.Activate(frame); // read and in its cache: from now on reclaim may take it (the copy of a private write keeps it meanwhile)
        return frame;
    }

    private Outcome? BreakCow(CpuState cpu, ProcessState process, in FaultInput f, FaultEffect.Copy cow)
    {
        var (mm, old) = (process.Mm, cow.Source);
        var key = new PageKey(mm.Asid, f.Address.Page);
        // Reclaim for the copy must not take the page being copied: swapped out, it would only fault
        // back in and be chosen again, forever when one frame is left. With no other victim it is OOM.
        if (!MakeRoom(cpu, process, keep: old))
            return Outcome.Killed;
        if (mm.Pages[key.Page] != f.Pte)
            return Lost(process, f); // the old page was reclaimed meanwhile: fault again
        var copy = _memory.NewCopy(old, process.Pid);
        var change = mm.Install(key.Page, Pte.Mapped(copy, cow.FlagsFor(f.Vma!, f.Code.Access, exclusive: true)));
        _memory.Map(copy, key, f.Vma!.IsLocked);
        _memory.Activate(copy);
        Shootdown(cpu.Id, mm, [change]);                               // nobody may still reach the old frame through this page...
        _memory.Release(new PageRelease(key, old, null));              // ...before its reference is dropped
        return null;
    }

    private void Map(AddressSpace mm, PageKey key, FrameNumber frame, PteFlags flags)
    {
        mm.Install(key.Page, Pte.Mapped(frame, flags));
        _memory.Map(frame, key, locked: mm.Vmas.FindContaining(key.Page.BaseAddress)?.IsLocked == true);
        _memory.Activate(frame);
    }

    /// <summary>
    /// Evicts until a frame is free, never <paramref name="keep"/> (the source of a copy). False when nothing can be
    /// evicted: the OOM killer ends the process.
    /// </summary>
    private bool MakeRoom(CpuState cpu, ProcessState process, FrameNumber? keep = null)
    {
        while (_memory.IsFull)
        {
            if (!_memory.CanEvictBut(keep))
            {
                EndProcess(cpu, process, ProcessFate.KilledByOom);
                return false;
            }
            Evict(_memory.ChooseVictim(keep), cpu, process);
        }
        return true;
    }

    /// <summary>
    /// Reclaims one frame: every PTE that maps it is replaced (anonymous pages point to their swap slot instead) and shot
    /// down on every TLB that may cache it, what must be written out is, and only then is the frame freed.
    /// </summary>
    private void Evict(FrameNumber frame, CpuState cpu, ProcessState initiator)
    {
        var eviction = _memory.BeginEviction(frame, initiator.Pid);
        foreach (var mapper in eviction.Mappers)
        {
            var owner = _byAsid[mapper.Asid];
            Shootdown(cpu.Id, owner.Mm, [owner.Mm.Install(mapper.Page, eviction.Replacement)]);
            _memory.Unmapped(eviction, mapper, replaced: true);
        }
        if (_memory.WriteOut(eviction) is { Block: PageSource.FromFile file } write)
            _files.Write(file.Page, write.Content);
        _memory.Finish(eviction);
    }

    /// <summary>
    /// Settles PTE changes of a system call: shoot down what TLBs may hold, then drop frame and swap references. The
    /// range rule is the actors' (<see cref="ShootdownRules.RangeRounds"/>); here every round ends within its step, so no
    /// round is ever in flight when a call comes and the rounds are the changes' alone.
    /// </summary>
    private void Settle(CpuState cpu, AddressSpace mm, SystemCall call, IReadOnlyList<PteChange> changes)
    {
        Shootdown(cpu.Id, mm, ShootdownRules.RangeRounds(_spec.Shootdown, mm, ShootdownRules.RangeOf(call), changes));
        foreach (var release in PageRelease.Dropped(mm.Asid, changes))
            _memory.Release(release);
    }

    /// <summary>
    /// Shoots the changed pages of <paramref name="mm"/> down on every CPU that has run it, in the rounds the shootdown
    /// mode gives: <paramref name="initiator"/> flushes its own TLB, the others get IPIs. The process whose address
    /// space it is counts them.
    /// </summary>
    private void Shootdown(CpuId initiator, AddressSpace mm, IReadOnlyList<PteChange> changes) =>
        Shootdown(initiator, mm, ShootdownRules.Rounds(_spec.Shootdown, mm.Asid, changes));

    private void Shootdown(CpuId initiator, AddressSpace mm, IReadOnlyList<ShootdownScope> rounds)
    {
        foreach (var round in rounds)
            RunRound(initiator, mm, round);
    }

    /// <summary>Every CPU that ran <paramref name="mm"/> forgets all its translations (exit).</summary>
    private void ShootdownAll(CpuId initiator, AddressSpace mm) => RunRound(initiator, mm, ShootdownScope.Everything(mm.Asid));

    private void RunRound(CpuId initiator, AddressSpace mm, ShootdownScope round)
    {
        foreach (var id in mm.Cpus.Cpus)
            round.ApplyTo(_cpus[id.Value].Tlb);
        _byAsid[mm.Asid].Counters.CountShootdown(ShootdownRules.Ipis(_spec.Shootdown, mm.Cpus.Cpus, initiator));
    }
}

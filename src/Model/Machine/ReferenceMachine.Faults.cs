using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Faults;
using Faultsim.Model.Frames;
using Faultsim.Model.PageTables;
using Faultsim.Model.Shootdowns;
using Faultsim.Model.Tlbs;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Model.Machine;

// The access and fault path of the reference machine: TLB, walk, fault decision, and applying
// the decision to frames, page tables, swap and TLBs, in the order a kernel must keep.
public sealed partial class ReferenceMachine
{
    private const int MaxAttempts = 16;

    private enum Outcome { Done, Retry, Killed, Efault, Panicked }

    /// <summary>One access, retried after each fault until it completes or the fault ends it.</summary>
    private Outcome Access(CpuState cpu, ProcessState process, VirtualAddress address, AccessKind kind, AccessMode mode, ulong value)
    {
        var mm = process.Mm;
        var page = address.Page;
        var userMode = mode == AccessMode.User;
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            bool present;
            if (cpu.Tlb.TryLookup(mm.Asid, page, out var cached))
            {
                process.Counters.TlbHits++;
                if (cached.Allows(kind, userMode))
                {
                    Perform(process, cached, address, kind, value);
                    return Outcome.Done;
                }
                present = true; // a protection fault raised from the cached entry
            }
            else
            {
                process.Counters.TlbMisses++;
                var pte = mm.Pages.Walk(address).Pte;
                if (pte.Allows(kind, userMode))
                {
                    var fill = new Translation(pte.Frame, _memory.GenerationTag(pte.Frame), pte.Flags);
                    cpu.Tlb.Fill(mm.Asid, page, fill);
                    Perform(process, fill, address, kind, value);
                    return Outcome.Done;
                }
                present = pte.IsPresent;
            }
            var input = GatherFaultInput(cpu, mm, address, FaultErrorCode.For(kind, present, userMode), mode);
            var outcome = Apply(cpu, process, input, FaultHandler.Resolve(input));
            if (outcome != Outcome.Retry)
                return outcome;
        }
        throw new InvalidOperationException($"{cpu.Id} faulted {MaxAttempts} times in a row at {address} in {process.Name}: the fault path does not converge");
    }

    private void Perform(ProcessState process, Translation translation, VirtualAddress address, AccessKind kind, ulong value)
    {
        if (translation.Generation != _memory.GenerationTag(translation.Frame))
            throw new InvalidOperationException($"stale translation used: {translation.Frame} was freed after it was cached");
        process.Counters.Accesses++;
        _memory.Referenced(translation.Frame, new PageKey(process.Mm.Asid, address.Page));
        if (kind == AccessKind.Write)
            _memory.Write(translation.Frame, address.Offset, value);
    }

    private FaultInput GatherFaultInput(CpuState cpu, AddressSpace mm, VirtualAddress address, FaultErrorCode code, AccessMode mode)
    {
        var f = mm.FaultInputFor(address, code, cpu.StackPointer, _spec.Stack, mode == AccessMode.UserCopy, _spec.ZeroPage, _files.Size);
        return MemoryQuery.For(f) switch
        {
            MemoryQuery.OfFrame frame => f with { Frame = _memory.Facts(frame.Frame) },
            MemoryQuery.OfSwap swap => f with { CachedFrame = _memory.LookupSwapCache(swap.Slot) },
            MemoryQuery.OfFile file => f with { CachedFrame = _memory.LookupPageCache(file.Page) },
            _ => f,
        };
    }

    private Outcome Apply(CpuState cpu, ProcessState process, in FaultInput f, Resolution resolution)
    {
        var counters = process.Counters;
        var mm = process.Mm;
        var page = f.Address.Page;
        switch (resolution)
        {
            case Resolution.Spurious:
                cpu.Tlb.Invalidate(mm.Asid, page);
                break;
            case Resolution.DemandZero zero:
                if (!InstallZeroed(cpu, process, f, f.Vma!, zero.MapZeroPage, out var oom))
                    return oom ? Outcome.Killed : Outcome.Retry;
                break;
            case Resolution.StackGrowth growth:
                var grown = mm.Vmas.GrowDown(f.Vma!, growth.NewStart);
                if (!InstallZeroed(cpu, process, f, grown, growth.MapZeroPage, out var oomStack))
                    return oomStack ? Outcome.Killed : Outcome.Retry;
                break;
            case Resolution.PageCacheHit hit:
                if (MapCached(cpu, process, f, hit.Frame, hit.FromSwapCache, hit.CopyForWrite) is { } hitOutcome)
                    return hitOutcome;
                break;
            case Resolution.Major major:
                counters.DiskReads++;
                if (ReadFails(major.Source))
                    return Apply(cpu, process, f, FailedRead(f));
                if (ReadIn(cpu, process, major.Source) is not { } frame)
                    return Outcome.Killed;
                if (MapCached(cpu, process, f, frame, major.Source is PageSource.FromSwap, major.CopyForWrite) is { } majorOutcome)
                    return majorOutcome;
                break;
            case Resolution.CowBreak cow:
                if (BreakCow(cpu, process, f, cow.Old) is { } cowOutcome)
                    return cowOutcome;
                break;
            case Resolution.CowReuse:
                mm.Install(page, InstallRules.Reused(f.Pte));
                cpu.Tlb.Invalidate(mm.Asid, page); // other CPUs' read-only entries only cause spurious faults
                break;
            case Resolution.SigSegv:
                counters.CountFault(resolution.Kind, major: false);
                EndProcess(cpu, process, ProcessFate.KilledBySigSegv);
                return Outcome.Killed;
            case Resolution.SigBus:
                counters.CountFault(resolution.Kind, major: false);
                EndProcess(cpu, process, ProcessFate.KilledBySigBus);
                return Outcome.Killed;
            case Resolution.EfaultFixup:
                counters.CountFault(resolution.Kind, major: false);
                return Outcome.Efault;
            case Resolution.KernelOops oops:
                counters.CountFault(resolution.Kind, major: false);
                _panic = $"kernel oops on {cpu.Id} in {process.Name}: {oops.Reason}";
                return Outcome.Panicked;
        }
        counters.CountFault(resolution.Kind, major: resolution is Resolution.Major);
        return Outcome.Retry;
    }

    /// <summary>A failed disk read: SIGBUS for the process, or EFAULT when the kernel was copying for a system call.</summary>
    private static Resolution FailedRead(in FaultInput f)
    {
        var bus = new Resolution.SigBus(BusReason.IoError);
        return f.InUserCopy ? new Resolution.EfaultFixup(bus) : bus;
    }

    private bool ReadFails(PageSource source) =>
        (source is PageSource.FromFile file && _badPages.Contains(file.Page))
        || (_spec.Disk.ReadErrorRate > 0 && _random.NextDouble() < _spec.Disk.ReadErrorRate);

    /// <summary>Demand-zero: the shared zero page for a read, else a fresh zeroed frame.</summary>
    private bool InstallZeroed(CpuState cpu, ProcessState process, in FaultInput f, Vma vma, bool zeroPage, out bool oom)
    {
        oom = false;
        var key = new PageKey(process.Mm.Asid, f.Address.Page);
        if (zeroPage)
        {
            process.Mm.Install(key.Page, Pte.Mapped(FrameNumber.Zero, InstallRules.ZeroPage(vma)));
            return true;
        }
        if (AllocateAnonymous(cpu, process) is not { } frame)
        {
            oom = true;
            return false;
        }
        if (process.Mm.Pages[key.Page] != f.Pte)
        {
            _memory.FreeUnused(frame); // reclaim changed the page meanwhile: fault again
            return false;
        }
        process.Counters.PagesZeroed++;
        Map(process.Mm, key, frame, InstallRules.NewPage(vma));
        return true;
    }

    /// <summary>Maps a page already in memory: page cache, swap cache, or just read in. Returns an outcome when the fault cannot finish.</summary>
    private Outcome? MapCached(CpuState cpu, ProcessState process, in FaultInput f, FrameNumber frame, bool fromSwap, bool copyForWrite)
    {
        var mm = process.Mm;
        var vma = f.Vma!;
        var key = new PageKey(mm.Asid, f.Address.Page);
        if (fromSwap)
        {
            // do_swap_page: this PTE gives up its slot; the last one to do so takes the page out of the swap cache.
            var exclusive = _swap.Release(f.Pte.Slot);
            Map(mm, key, frame, InstallRules.SwappedIn(vma, f.Code.Access, exclusive));
            if (exclusive)
                _memory.RemoveFromSwapCache(frame);
            return null;
        }
        if (!copyForWrite)
        {
            Map(mm, key, frame, InstallRules.CachedPage(vma, f.Code.Access));
            return null;
        }
        // A write to a private file mapping (do_cow_fault): the process gets its own copy of the file page.
        _memory.Pin(frame);
        var copy = AllocateAnonymous(cpu, process);
        _memory.Unpin(frame);
        if (copy is not { } target)
            return Outcome.Killed;
        _memory.Copy(frame, target);
        process.Counters.PagesCopied++;
        Map(mm, key, target, InstallRules.NewPage(vma));
        return null;
    }

    /// <summary>The disk read of a major fault: a new frame filled from the file or swap, entered in the page or swap cache.</summary>
    private FrameNumber? ReadIn(CpuState cpu, ProcessState process, PageSource source)
    {
        if (!MakeRoom(cpu, process))
            return null;
        FrameNumber frame;
        Span<ulong> content = stackalloc ulong[_spec.WordsPerPage];
        if (source is PageSource.FromFile file)
        {
            frame = _memory.AllocatePageCache(file.Page);
            _files.Read(file.Page, content);
        }
        else
        {
            var slot = ((PageSource.FromSwap)source).Slot;
            frame = _memory.AllocateAnonymous();
            _swap.Read(slot).CopyTo(content);
            _memory.AddToSwapCache(frame, slot);
        }
        _memory.Fill(frame, content);
        _memory.Activate(frame);
        return frame;
    }

    private Outcome? BreakCow(CpuState cpu, ProcessState process, in FaultInput f, FrameNumber old)
    {
        var mm = process.Mm;
        var key = new PageKey(mm.Asid, f.Address.Page);
        // Reclaim for the copy must not take the page being copied: swapped out, it would only fault
        // back in and be chosen again, forever when one frame is left. With no other victim it is OOM.
        _memory.Pin(old);
        var allocated = AllocateAnonymous(cpu, process);
        _memory.Unpin(old);
        if (allocated is not { } copy)
            return Outcome.Killed;
        if (mm.Pages[key.Page] != f.Pte)
        {
            _memory.FreeUnused(copy); // the old page was reclaimed meanwhile: fault again
            return Outcome.Retry;
        }
        if (old == FrameNumber.Zero)
        {
            process.Counters.PagesZeroed++;
        }
        else
        {
            _memory.Copy(old, copy);
            process.Counters.PagesCopied++;
        }
        var change = mm.Install(key.Page, Pte.Mapped(copy, InstallRules.NewPage(f.Vma!)));
        _memory.Map(copy, key);
        _memory.Activate(copy);
        Shootdown(cpu.Id, mm, [change]);  // nobody may still reach the old frame through this page...
        _memory.Unmap(old, key);                 // ...before its reference is dropped
        return null;
    }

    private void Map(AddressSpace mm, PageKey key, FrameNumber frame, PteFlags flags)
    {
        mm.Install(key.Page, Pte.Mapped(frame, flags));
        _memory.Map(frame, key);
        _memory.Activate(frame);
    }

    private FrameNumber? AllocateAnonymous(CpuState cpu, ProcessState process) =>
        MakeRoom(cpu, process) ? _memory.AllocateAnonymous() : null;

    /// <summary>Evicts until a frame is free. False when nothing can be evicted: the OOM killer ends the process.</summary>
    private bool MakeRoom(CpuState cpu, ProcessState process)
    {
        while (_memory.IsFull)
        {
            if (_memory.Evictable == 0)
            {
                EndProcess(cpu, process, ProcessFate.KilledByOom);
                return false;
            }
            Evict(_memory.ChooseVictim(), cpu, process);
        }
        return true;
    }

    /// <summary>
    /// Reclaims one frame: every PTE that maps it is cleared (anonymous pages point to their swap
    /// slot instead), every TLB that may cache it is shot down, dirty content is written out, and
    /// only then is the frame freed.
    /// </summary>
    private void Evict(FrameNumber frame, CpuState cpu, ProcessState initiator)
    {
        var counters = initiator.Counters;
        var mappers = _memory.Mappers(frame);
        var anonymous = _memory.UseOf(frame) == FrameUse.Anonymous;
        SwapSlot slot = default;
        if (anonymous)
        {
            if (_memory.IsSwapCached(frame))
            {
                slot = _memory.SwapSlotOf(frame);
                for (var i = 0; i < mappers.Count; i++)
                    _swap.AddReference(slot);
                if (_memory.IsDirty(frame))
                {
                    _swap.Write(slot, _memory.Content(frame));
                    counters.DiskWrites++;
                }
            }
            else
            {
                slot = _swap.Allocate(_memory.Content(frame), mappers.Count);
                counters.DiskWrites++;
            }
        }
        foreach (var mapper in mappers)
        {
            var owner = _byAsid[mapper.Asid];
            var change = owner.Mm.Install(mapper.Page, anonymous ? Pte.Swapped(slot) : Pte.None);
            Shootdown(cpu.Id, owner.Mm, [change]);
        }
        foreach (var mapper in mappers)
            _memory.Unmap(frame, mapper);
        if (anonymous)
        {
            _memory.RemoveFromSwapCache(frame); // a frame not in the swap cache was freed by its last unmap
        }
        else
        {
            if (_memory.IsDirty(frame))
            {
                _files.Write(_memory.CachedFilePage(frame), _memory.Content(frame));
                counters.DiskWrites++;
            }
            _memory.RemoveFromPageCache(frame);
        }
        counters.PagesEvicted++;
    }

    /// <summary>Settles PTE changes of a system call: shoot down what TLBs may hold, then drop frame and swap references.</summary>
    private void Settle(CpuState cpu, ProcessState process, AddressSpace mm, IReadOnlyList<PteChange> changes)
    {
        Shootdown(cpu.Id, mm, changes);
        foreach (var change in changes)
        {
            if (change.New.IsNone)
                Release(mm, change);
        }
    }

    private void Release(AddressSpace mm, PteChange change)
    {
        var old = change.Old;
        if (old.HoldsFrame)
        {
            _memory.Unmap(old.Frame, new PageKey(mm.Asid, change.Page));
        }
        else if (old.IsSwapped && _swap.Release(old.Slot) && _memory.LookupSwapCache(old.Slot) is { } cached)
        {
            _memory.RemoveFromSwapCache(cached);
        }
    }

    /// <summary>
    /// Shoots the changed pages of <paramref name="mm"/> down on every CPU that has run it, in the rounds the shootdown
    /// mode gives: <paramref name="initiator"/> flushes its own TLB, the others get IPIs. The process whose address
    /// space it is counts them.
    /// </summary>
    private void Shootdown(CpuId initiator, AddressSpace mm, IReadOnlyList<PteChange> changes)
    {
        foreach (var round in ShootdownRules.Rounds(_spec.Shootdown, mm.Asid, changes))
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

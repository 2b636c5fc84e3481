using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Memory;
using Faultsim.Model.PageTables;
using Faultsim.Model.Replacement;
using Faultsim.Model.Storage;

namespace Faultsim.Tests.Model;

/// <summary>The kernel's memory management both engines call: frames for faults, swap-in, eviction step by step.</summary>
public sealed class MemoryManagerTests
{
    private static readonly ProcessId Pid = new(1);
    private static PageKey Page(ulong n, int asid = 1) => new(new Asid(asid), new PageNumber(n));
    private static MemoryManager Memory(int frames = 2) => new(frames, 4, new FifoPolicy());

    private static FrameNumber Mapped(MemoryManager memory, PageKey page, ulong value)
    {
        var frame = memory.NewZeroed(Pid);
        memory.Map(frame, page);
        memory.Activate(frame);
        memory.Frames.Write(frame, 0, value);
        return frame;
    }

    /// <summary>A page of <paramref name="value"/> mapped, then evicted to swap whole: its slot (the frame it had is freed).</summary>
    private static SwapSlot SwappedOut(MemoryManager memory, PageKey page, ulong value, out FrameNumber frame)
    {
        frame = Mapped(memory, page, value);
        var eviction = memory.BeginEviction(frame, Pid);
        memory.Unmapped(eviction, page, replaced: true);
        memory.WriteOut(eviction);
        memory.Finish(eviction);
        return eviction.Slot!.Value;
    }

    [Fact]
    public void An_anonymous_page_is_evicted_to_a_fresh_slot_written_out_and_freed()
    {
        var memory = Memory();
        var frame = Mapped(memory, Page(1), 42);
        var eviction = memory.BeginEviction(memory.ChooseVictim(), Pid);
        Assert.Equal(frame, eviction.Frame);
        Assert.Equal([Page(1)], eviction.Mappers);
        var slot = eviction.Slot!.Value;
        Assert.Equal(Pte.Swapped(slot, generation: 1), eviction.Replacement); // the slot's first use
        memory.Unmapped(eviction, Page(1), replaced: true);
        var write = memory.WriteOut(eviction)!;
        Assert.Equal(new PageSource.FromSwap(slot), write.Block);
        Assert.Equal(42UL, memory.Swap.Read(slot)[0]);
        Assert.True(memory.Finish(eviction));
        Assert.Equal(0, memory.Frames.InUse);
        Assert.Equal(1, memory.Swap.References(slot));           // the PTE that names it now
        Assert.False(memory.Swap.IsCached(slot));
        Assert.Equal((1L, 1L), (memory.CountsOf(Pid).Evicted, memory.CountsOf(Pid).DiskWrites));
    }

    [Fact]
    public void A_page_a_fault_maps_again_during_its_eviction_stays_and_leaves_the_swap_cache_when_no_pte_names_the_slot()
    {
        var memory = Memory();
        var frame = Mapped(memory, Page(1), 7);
        var eviction = memory.BeginEviction(frame, Pid);
        var slot = eviction.Slot!.Value;
        memory.Unmapped(eviction, Page(1), replaced: true);
        // A fault swaps the page in from the swap cache before the eviction is done: the PTE maps the frame again.
        Assert.True(memory.SwapInExclusive(slot, frame));
        memory.Map(frame, Page(1));
        memory.DropSwapEntry(slot);
        Assert.True(memory.Swap.IsAllocated(slot));              // the eviction still holds the page in the swap cache
        Assert.Null(memory.WriteOut(eviction));                   // mapped again: nothing to write
        Assert.False(memory.Finish(eviction));
        Assert.False(memory.Swap.IsAllocated(slot));
        Assert.Equal(1, memory.Frames.MapCount(frame));
        Assert.Equal(0L, memory.CountsOf(Pid).Evicted);
    }

    [Fact]
    public void A_file_page_written_again_after_its_write_out_stays_cached_with_the_newer_content_though_no_pte_maps_it()
    {
        // faultsim replay --swarm --seed 2580 --set shootdown=lazy --set machine.frames=2 broke invariant 7: a fault mapped
        // a shared page again during its write-out and stored into it, its process died, and the eviction's end freed
        // the frame because nothing mapped it — the newer content was lost and a later read fetched the older one.
        var memory = Memory();
        var file = new PageSource.FromFile(new FilePage(new FileId(0), 0));
        var frame = memory.ReserveRead(file);
        memory.FillRead(frame, file, [1]);
        memory.Map(frame, Page(1));
        memory.Activate(frame);
        memory.Frames.Write(frame, 0, 2);
        var eviction = memory.BeginEviction(frame, Pid);
        memory.Unmapped(eviction, Page(1), replaced: true);
        Assert.Equal(2UL, memory.WriteOut(eviction)!.Content[0]);
        memory.Map(frame, Page(1));                               // a fault finds it cached and maps it again
        memory.Frames.Write(frame, 0, 3);
        memory.Release(new PageRelease(Page(1), frame, null));  // its process dies
        Assert.False(memory.Finish(eviction));
        Assert.Equal(frame, memory.Cached(new MemoryQuery.OfFile(new FilePage(new FileId(0), 0))));
        Assert.Equal(3UL, memory.Frames.Read(frame, 0));
        Assert.Equal(0L, memory.CountsOf(Pid).Evicted);
    }

    [Fact]
    public void A_swap_slot_whose_last_pte_goes_while_its_page_is_read_in_stays_until_the_read_is_cancelled()
    {
        // faultsim replay --swarm --seed 18234 crashed memory ("swap slot 6 is not in use"): the process exited while a
        // loader read its swapped page, the exit dropped the slot's swap-cache page — the frame reserved for the read —
        // and the read's cancellation then found the slot gone. A page being read is locked: the slot waits for the read.
        var memory = Memory();
        var slot = SwappedOut(memory, Page(1), 7, out _);
        var read = memory.ReserveRead(new PageSource.FromSwap(slot));
        memory.DropSwapEntry(slot);                               // the exit releases the PTE that named the slot
        Assert.True(memory.Swap.IsAllocated(slot));               // the read in flight holds it in the swap cache
        memory.CancelRead(read, new PageSource.FromSwap(slot));   // the loader crashed: the read will not happen
        Assert.False(memory.Swap.IsAllocated(slot));              // now nothing holds it
    }

    [Fact]
    public void A_swap_in_from_a_slot_freed_since_its_fault_saw_it_is_not_exclusive()
    {
        // faultsim replay --swarm --seed 4203 --set machine.frames=1 crashed memory ("swap slot 4 is not in use"): a fault
        // of an exiting process found the page in the swap cache, and by its install the exit had freed the slot.
        var memory = Memory();
        var slot = SwappedOut(memory, Page(1), 7, out var frame);
        memory.DropSwapEntry(slot);                       // the exit: no PTE names the slot, and it is freed
        Assert.False(memory.Swap.IsAllocated(slot));
        Assert.False(memory.SwapInExclusive(slot, frame));
    }

    [Fact]
    public void A_swapped_in_page_is_exclusive_only_when_no_other_pte_names_the_slot_and_none_maps_the_frame()
    {
        var memory = Memory();
        var frame = Mapped(memory, Page(1), 1);
        memory.AddReferences([new PageRelease(Page(1, asid: 2), frame, null)]);  // fork: the child maps it too
        var eviction = memory.BeginEviction(frame, Pid);
        var slot = eviction.Slot!.Value;
        memory.Unmapped(eviction, Page(1), replaced: true);
        memory.Unmapped(eviction, Page(1, asid: 2), replaced: true);
        memory.WriteOut(eviction);
        memory.Finish(eviction);

        var read = memory.ReserveRead(new PageSource.FromSwap(slot));
        memory.FillRead(read, new PageSource.FromSwap(slot), []);
        Assert.False(memory.SwapInExclusive(slot, read));   // the child's PTE names the slot too
        memory.Map(read, Page(1));
        memory.DropSwapEntry(slot);
        Assert.False(memory.SwapInExclusive(slot, read));   // the slot is the child's alone now, but the parent maps the frame
        Assert.Equal(2, memory.Frames.Facts(read).RefCount);  // the parent's PTE and the swap cache: a write copies
    }

    [Fact]
    public void Reclaim_passes_over_the_frame_a_copy_keeps_and_prefers_frames_no_waiting_copy_needs()
    {
        var memory = Memory(frames: 3);
        var a = Mapped(memory, Page(1), 1);
        var b = Mapped(memory, Page(2), 2);
        var c = Mapped(memory, Page(3), 3);
        Assert.Equal(a, memory.ChooseVictim());                    // FIFO: the oldest
        Assert.Equal(b, memory.ChooseVictim(keep: a));
        Assert.Equal(c, memory.ChooseVictim(a, rather: [b]));
        memory.BeginEviction(c, Pid);
        Assert.Equal(b, memory.ChooseVictim(a, rather: [b]));      // nothing else can go
        memory.BeginEviction(b, Pid);
        Assert.Null(memory.ChooseVictim(a, rather: []));
    }

    [Fact]
    public void Page_out_takes_only_the_frames_the_process_maps_alone()
    {
        var memory = Memory(frames: 0);
        var own = Mapped(memory, Page(1), 1);
        var shared = Mapped(memory, Page(2), 2);
        memory.Map(shared, Page(2, asid: 2));
        Assert.Equal([own], memory.PageOutCandidates([own, shared, FrameNumber.Zero, own]));
    }
}

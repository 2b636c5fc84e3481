using Faultsim.Model.Addressing;
using Faultsim.Model.PageTables;
using Faultsim.Model.Storage;

namespace Faultsim.Tests.Model;

/// <summary>Swap slots: content, and reference counts shared by the PTEs that name a slot.</summary>
public sealed class SwapSpaceTests
{
    [Fact]
    public void A_slot_holds_its_content_until_its_last_reference_is_released()
    {
        var swap = new SwapSpace(4);
        var slot = swap.Allocate([1, 2, 3, 4], references: 2);
        Assert.Equal(1, swap.InUse);
        Assert.Equal(new ulong[] { 1, 2, 3, 4 }, swap.Read(slot).ToArray());
        Assert.Equal(2, swap.References(slot));
        Assert.False(swap.Release(slot));
        Assert.Equal(1, swap.References(slot));
        Assert.Equal(new ulong[] { 1, 2, 3, 4 }, swap.Read(slot).ToArray());
        Assert.True(swap.Release(slot));
        Assert.Equal(0, swap.InUse);
        Assert.Throws<InvalidOperationException>(() => swap.References(slot));
    }

    [Fact]
    public void Add_reference_keeps_the_slot_for_one_more_release()
    {
        var swap = new SwapSpace(1);
        var slot = swap.Allocate([7], references: 1);
        swap.AddReference(slot);
        Assert.False(swap.Release(slot));
        Assert.True(swap.Release(slot));
    }

    [Fact]
    public void A_freed_slot_is_reused_and_live_slots_are_distinct()
    {
        var swap = new SwapSpace(1);
        var a = swap.Allocate([1], 1);
        var b = swap.Allocate([2], 1);
        Assert.NotEqual(a, b);
        Assert.NotEqual(new SwapSlot(0), a);        // slot 0 is never used, so a zero PTE never names one
        swap.Release(a);
        var c = swap.Allocate([3], 1);
        Assert.Equal(a, c);
        Assert.Equal(new ulong[] { 3 }, swap.Read(c).ToArray());
        Assert.Equal(new ulong[] { 2 }, swap.Read(b).ToArray());
    }

    [Fact]
    public void Write_replaces_the_content_of_a_live_slot()
    {
        var swap = new SwapSpace(2);
        var slot = swap.Allocate([1, 1], 1);
        swap.Write(slot, [5, 6]);
        Assert.Equal(new ulong[] { 5, 6 }, swap.Read(slot).ToArray());
    }

    [Fact]
    public void Content_of_the_wrong_page_size_is_refused()
    {
        var swap = new SwapSpace(4);
        Assert.Throws<ArgumentException>(() => swap.Allocate([1, 2], 1));
    }

    [Fact]
    public void The_allocated_slot_keeps_a_copy_not_the_callers_buffer()
    {
        var swap = new SwapSpace(2);
        var buffer = new ulong[] { 1, 2 };
        var slot = swap.Allocate(buffer, 1);
        buffer[0] = 99;
        Assert.Equal(1UL, swap.Read(slot)[0]);
    }

    [Fact]
    public void A_slot_the_swap_cache_holds_lives_without_references_until_the_cache_lets_go()
    {
        var swap = new SwapSpace(1);
        var slot = swap.Allocate([5], references: 0);
        Assert.False(swap.SetCached(slot, true));
        swap.AddReference(slot);
        Assert.False(swap.Release(slot));          // cached: the slot stays
        Assert.Equal(0, swap.References(slot));
        Assert.True(swap.SetCached(slot, false));   // nothing holds it any more
        Assert.False(swap.IsAllocated(slot));
    }

    [Fact]
    public void A_slot_allocated_again_has_a_new_generation_so_its_swap_entry_differs_from_the_old_one()
    {
        var swap = new SwapSpace(1);
        var first = swap.Allocate([1], references: 1);
        var old = Pte.Swapped(first, swap.Generation(first));
        Assert.True(swap.Release(first));
        var again = swap.Allocate([2], references: 1);
        Assert.Equal(first, again);                 // the same slot number...
        Assert.Equal(2u, swap.Generation(again));   // ...in its second use
        Assert.NotEqual(old, Pte.Swapped(again, swap.Generation(again)));
        Assert.Equal(old.Slot, Pte.Swapped(again, swap.Generation(again)).Slot);
    }
}

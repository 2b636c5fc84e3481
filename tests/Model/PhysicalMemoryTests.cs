using Faultsim.Model.Addressing;
using Faultsim.Model.Frames;
using Faultsim.Model.Replacement;

namespace Faultsim.Tests.Model;

/// <summary>Frames: reference counts, generations, the reverse map, the page and swap caches, the limit and evictability.</summary>
public sealed class PhysicalMemoryTests
{
    private static readonly PageKey P1 = new(new Asid(1), new PageNumber(0x100)),
        P2 = new(new Asid(2), new PageNumber(0x100)),
        P3 = new(new Asid(1), new PageNumber(0x200));
    private static readonly FilePage Data3 = new(new FileId(2), 3);

    private static PhysicalMemory Memory(int limit = 0) => new(limit, 4, new FifoPolicy());

    [Fact]
    public void The_reference_count_of_an_anonymous_frame_is_its_number_of_mappings()
    {
        var memory = Memory();
        var frame = memory.AllocateAnonymous();
        Assert.Equal(FrameUse.Anonymous, memory.UseOf(frame));
        Assert.Equal(0, memory.RefCount(frame));
        memory.Map(frame, P1);
        memory.Map(frame, P2);
        Assert.Equal(2, memory.RefCount(frame));
        Assert.Equal(2, memory.MapCount(frame));
        memory.Unmap(frame, P1);
        Assert.Equal(1, memory.RefCount(frame));
        memory.Unmap(frame, P2);
        Assert.Equal(FrameUse.Free, memory.UseOf(frame));   // the last unmap frees it
        Assert.Equal(0, memory.InUse);
    }

    [Fact]
    public void A_page_cache_frame_counts_one_reference_for_the_cache_and_outlives_its_mappings()
    {
        var memory = Memory();
        var frame = memory.AllocatePageCache(Data3);
        Assert.Equal(1, memory.RefCount(frame));
        memory.Map(frame, P1);
        memory.Map(frame, P2);
        Assert.Equal(3, memory.RefCount(frame));
        Assert.Throws<InvalidOperationException>(() => memory.RemoveFromPageCache(frame));
        memory.Unmap(frame, P1);
        memory.Unmap(frame, P2);
        Assert.Equal(1, memory.RefCount(frame));
        Assert.Equal(FrameUse.PageCache, memory.UseOf(frame));
        Assert.Equal(frame, memory.LookupPageCache(Data3));
    }

    [Fact]
    public void A_swap_cached_frame_counts_one_reference_for_the_cache_and_is_freed_when_both_go()
    {
        var memory = Memory();
        var frame = memory.AllocateAnonymous();
        memory.Map(frame, P1);
        memory.AddToSwapCache(frame, new SwapSlot(5));
        Assert.Equal(2, memory.RefCount(frame));
        memory.Unmap(frame, P1);
        Assert.Equal(1, memory.RefCount(frame));
        Assert.Equal(FrameUse.Anonymous, memory.UseOf(frame));   // the swap cache still holds it
        memory.RemoveFromSwapCache(frame);
        Assert.Equal(FrameUse.Free, memory.UseOf(frame));
    }

    [Fact]
    public void The_facts_the_fault_decision_reads_match_the_frame()
    {
        var memory = Memory();
        var anon = memory.AllocateAnonymous();
        memory.Map(anon, P1);
        var cached = memory.AllocatePageCache(Data3);
        Assert.Equal(new Faultsim.Model.Faults.FrameFacts(false, true, 1), memory.Facts(anon));
        Assert.Equal(new Faultsim.Model.Faults.FrameFacts(false, false, 1), memory.Facts(cached));
        Assert.True(memory.Facts(FrameNumber.Zero).IsZeroPage);
    }

    [Fact]
    public void The_generation_bumps_when_a_frame_is_freed_so_its_reuse_is_told_apart()
    {
        var memory = Memory();
        var frame = memory.AllocateAnonymous();
        var first = memory.Generation(frame);
        memory.Map(frame, P1);
        memory.Unmap(frame, P1);
        var freed = memory.Generation(frame);
        Assert.NotEqual(first, freed);
        var reused = memory.AllocateAnonymous();
        Assert.Equal(frame, reused);                        // the freed frame is handed out again
        Assert.Equal(freed, memory.Generation(reused));
        memory.FreeUnused(reused);
        Assert.NotEqual(freed, memory.Generation(reused));
    }

    [Fact]
    public void A_reused_frame_starts_zeroed_and_clean()
    {
        var memory = Memory();
        var frame = memory.AllocateAnonymous();
        memory.Write(frame, 8, 42);
        Assert.True(memory.IsDirty(frame));
        memory.FreeUnused(frame);
        var again = memory.AllocateAnonymous();
        Assert.Equal(frame, again);
        Assert.Equal(new ulong[] { 0, 0, 0, 0 }, memory.Content(again).ToArray());
        Assert.False(memory.IsDirty(again));
    }

    [Fact]
    public void The_reverse_map_lists_every_mapper_of_a_frame_as_they_come_and_go()
    {
        var memory = Memory();
        var frame = memory.AllocateAnonymous();
        Assert.Empty(memory.Mappers(frame));
        memory.Map(frame, P1);
        memory.Map(frame, P2);
        memory.Map(frame, P3);
        Assert.Equal(new[] { P1, P2, P3 }.ToHashSet(), memory.Mappers(frame).ToHashSet());
        memory.Unmap(frame, P1);                            // the first mapper goes
        Assert.Equal(new[] { P2, P3 }.ToHashSet(), memory.Mappers(frame).ToHashSet());
        memory.Unmap(frame, P3);
        Assert.Equal([P2], memory.Mappers(frame));
        Assert.Throws<InvalidOperationException>(() => memory.Unmap(frame, P1));
    }

    [Fact]
    public void The_zero_page_is_never_counted_or_reverse_mapped_and_cannot_be_written()
    {
        var memory = Memory();
        memory.Map(FrameNumber.Zero, P1);
        Assert.Equal(0, memory.MapCount(FrameNumber.Zero));
        Assert.Empty(memory.Mappers(FrameNumber.Zero));
        Assert.Equal(FrameUse.ZeroPage, memory.UseOf(FrameNumber.Zero));
        Assert.Throws<InvalidOperationException>(() => memory.Write(FrameNumber.Zero, 0, 1));
        memory.Activate(FrameNumber.Zero);
        Assert.Equal(0, memory.Evictable);
    }

    [Fact]
    public void The_page_cache_finds_a_file_page_until_it_is_removed()
    {
        var memory = Memory();
        Assert.Null(memory.LookupPageCache(Data3));
        var frame = memory.AllocatePageCache(Data3);
        Assert.Equal(frame, memory.LookupPageCache(Data3));
        Assert.Equal(Data3, memory.CachedFilePage(frame));
        Assert.Equal(1, memory.PageCacheSize);
        Assert.Null(memory.LookupPageCache(Data3 with { Index = 4 }));
        memory.RemoveFromPageCache(frame);
        Assert.Null(memory.LookupPageCache(Data3));
        Assert.Equal(0, memory.PageCacheSize);
        Assert.Equal(FrameUse.Free, memory.UseOf(frame));
    }

    [Fact]
    public void The_swap_cache_finds_a_slot_until_the_frame_is_removed_from_it()
    {
        var memory = Memory();
        var frame = memory.AllocateAnonymous();
        memory.Map(frame, P1);
        var slot = new SwapSlot(17);
        memory.AddToSwapCache(frame, slot);
        Assert.True(memory.IsSwapCached(frame));
        Assert.Equal(slot, memory.SwapSlotOf(frame));
        Assert.Equal(frame, memory.LookupSwapCache(slot));
        memory.RemoveFromSwapCache(frame);
        Assert.False(memory.IsSwapCached(frame));
        Assert.Null(memory.LookupSwapCache(slot));
        Assert.Equal(FrameUse.Anonymous, memory.UseOf(frame));  // still mapped
    }

    [Fact]
    public void A_frame_limit_makes_memory_full_and_allocation_beyond_it_throws()
    {
        var memory = Memory(limit: 2);
        memory.AllocateAnonymous();
        Assert.False(memory.IsFull);
        var second = memory.AllocatePageCache(Data3);
        Assert.True(memory.IsFull);
        Assert.Throws<InvalidOperationException>(() => memory.AllocateAnonymous());
        memory.RemoveFromPageCache(second);
        Assert.False(memory.IsFull);
        Assert.Equal(2, memory.PeakInUse);
    }

    [Fact]
    public void Without_a_limit_memory_is_never_full()
    {
        var memory = Memory();
        for (var i = 0; i < 1000; i++)
            memory.AllocateAnonymous();
        Assert.False(memory.IsFull);
        Assert.Equal(1000, memory.InUse);
    }

    [Fact]
    public void Frames_are_evictable_only_after_activate_and_not_while_isolated()
    {
        var memory = Memory(limit: 4);
        var frame = memory.AllocateAnonymous();
        memory.Map(frame, P1);
        Assert.Equal(0, memory.Evictable);
        Assert.Throws<InvalidOperationException>(() => memory.ChooseVictim());
        memory.Activate(frame);
        memory.Activate(frame);                             // twice is once
        Assert.Equal(1, memory.Evictable);
        Assert.Equal(frame, memory.ChooseVictim());
        memory.Isolate(frame);
        Assert.Equal(0, memory.Evictable);
        Assert.Throws<InvalidOperationException>(() => memory.ChooseVictim());
    }

    [Fact]
    public void A_freed_frame_leaves_the_replacement_lists()
    {
        var memory = Memory(limit: 4);
        var first = memory.AllocateAnonymous();
        var second = memory.AllocateAnonymous();
        memory.Activate(first);
        memory.Activate(second);
        Assert.Equal(first, memory.ChooseVictim());
        memory.FreeUnused(first);
        Assert.Equal(1, memory.Evictable);
        Assert.Equal(second, memory.ChooseVictim());
    }

    [Fact]
    public void Without_a_frame_limit_no_frame_is_ever_put_up_for_eviction()
    {
        var memory = Memory();
        memory.Activate(memory.AllocateAnonymous());
        Assert.Equal(0, memory.Evictable);
    }

    [Fact]
    public void A_store_at_offset_o_writes_word_o_over_8_modulo_the_words_per_page()
    {
        var memory = Memory();
        var frame = memory.AllocateAnonymous();
        memory.Write(frame, 8, 1);
        memory.Write(frame, 4 * 8 + 16, 2);                 // wraps around to word 2
        Assert.Equal(new ulong[] { 0, 1, 2, 0 }, memory.Content(frame).ToArray());
        Assert.Equal(2UL, memory.Read(frame, 16));
    }

    [Fact]
    public void Fill_makes_a_frame_clean_and_copy_makes_the_target_dirty()
    {
        var memory = Memory();
        var from = memory.AllocateAnonymous();
        memory.Fill(from, [1, 2, 3, 4]);
        Assert.False(memory.IsDirty(from));
        var to = memory.AllocateAnonymous();
        memory.Copy(from, to);
        Assert.True(memory.IsDirty(to));
        Assert.Equal(new ulong[] { 1, 2, 3, 4 }, memory.Content(to).ToArray());
    }
}

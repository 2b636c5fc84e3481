using Faultsim.Model.Addressing;
using Faultsim.Model.PageTables;

namespace Faultsim.Tests.Model;

/// <summary>The 4-level page table: entries, the MMU's walk level by level, and enumeration.</summary>
public sealed class PageTableTests
{
    private static readonly Pte Rw = Pte.Mapped(new FrameNumber(7), PteFlags.User | PteFlags.Writable);

    // Pages that differ at each level: same PT, next PT (same PD), next PD (same PDPT), next PML4 entry.
    private static readonly PageNumber P0 = new(0x1_0000), SamePt = new(0x1_0003), NextPt = new(0x1_0200),
        NextPd = new(0x1_0000 + (1UL << 18)), NextPml4 = new(0x1_0000 + (1UL << 27));

    [Fact]
    public void An_entry_that_was_set_reads_back_and_an_unset_one_reads_none()
    {
        var table = new PageTable();
        table[P0] = Rw;
        Assert.Equal(Rw, table[P0]);
        Assert.True(table[SamePt].IsNone);
        Assert.True(table[NextPml4].IsNone);
    }

    [Fact]
    public void Setting_an_entry_to_none_where_no_table_exists_allocates_no_table()
    {
        var table = new PageTable();
        table[NextPml4] = Pte.None;
        Assert.Equal(1, table.TablePages);
        Assert.Equal(0, table.MappedEntries);
    }

    [Fact]
    public void Walk_of_an_empty_table_stops_at_the_pml4_after_reading_one_entry()
    {
        var walk = new PageTable().Walk(P0.BaseAddress);
        Assert.Equal(Level.Pml4, walk.StoppedAt);
        Assert.Equal(1, walk.LevelsRead);
        Assert.False(walk.ReachedLeaf);
        Assert.True(walk.Pte.IsNone);
    }

    [Fact]
    public void Walk_reaches_the_pt_and_returns_the_leaf_entry_after_four_reads()
    {
        var table = new PageTable();
        table[P0] = Rw;
        var walk = table.Walk(P0.BaseAddress + 0x123);
        Assert.Equal(Level.Pt, walk.StoppedAt);
        Assert.True(walk.ReachedLeaf);
        Assert.Equal(4, walk.LevelsRead);
        Assert.Equal(Rw, walk.Pte);
    }

    [Fact]
    public void Walk_stops_at_the_level_whose_entry_is_missing()
    {
        var table = new PageTable();
        table[P0] = Rw;
        Assert.Equal((Level.Pt, 4), Stop(table.Walk(SamePt.BaseAddress)));      // leaf read, entry empty
        Assert.True(table.Walk(SamePt.BaseAddress).Pte.IsNone);
        Assert.Equal((Level.Pd, 3), Stop(table.Walk(NextPt.BaseAddress)));
        Assert.Equal((Level.Pdpt, 2), Stop(table.Walk(NextPd.BaseAddress)));
        Assert.Equal((Level.Pml4, 1), Stop(table.Walk(NextPml4.BaseAddress)));

        static (Level, int) Stop(WalkResult r) => (r.StoppedAt, r.LevelsRead);
    }

    [Fact]
    public void Page_walk_steps_one_level_at_a_time_from_the_root_to_the_leaf()
    {
        var table = new PageTable();
        table[P0] = Rw;
        var walk = PageWalk.Start(table, P0.BaseAddress);
        var levels = new List<Level>();
        var reads = new List<int>();
        do
        {
            Assert.False(walk.IsDone);
            levels.Add(walk.Level);
            var more = walk.Step();
            reads.Add(walk.Result.LevelsRead);
            Assert.Equal(!more, walk.IsDone);
        }
        while (!walk.IsDone);
        Assert.Equal([Level.Pml4, Level.Pdpt, Level.Pd, Level.Pt], levels);
        Assert.Equal([1, 2, 3, 4], reads);
        Assert.Equal(Rw, walk.Result.Pte);
        Assert.False(walk.Step()); // a finished walk reads nothing more
        Assert.Equal(4, walk.Result.LevelsRead);
    }

    [Fact]
    public void Page_walk_of_a_missing_table_is_done_after_the_step_that_found_it_missing()
    {
        var table = new PageTable();
        table[P0] = Rw;
        var walk = PageWalk.Start(table, NextPd.BaseAddress);
        Assert.True(walk.Step());    // PML4 entry present
        Assert.Equal(Level.Pdpt, walk.Level);
        Assert.False(walk.Step());   // PDPT entry missing
        Assert.True(walk.IsDone);
        Assert.Equal(Level.Pdpt, walk.Result.StoppedAt);
        Assert.Equal(Level.Pdpt, walk.Level);
    }

    [Fact]
    public void Entries_enumerates_in_page_order_across_tables_whatever_the_order_they_were_set_in()
    {
        var table = new PageTable();
        PageNumber[] pages = [NextPml4, SamePt, NextPd, P0, NextPt];
        foreach (var page in pages)
            table[page] = Pte.Mapped(new FrameNumber((uint)page.Value), PteFlags.User);
        var listed = table.Entries(new PageNumber(0), VirtualAddress.UserEnd.Page).ToList();
        Assert.Equal(pages.OrderBy(p => p.Value), listed.Select(e => e.Page));
        Assert.All(listed, e => Assert.Equal((uint)e.Page.Value, e.Pte.Frame.Value));
    }

    [Fact]
    public void Entries_lists_only_the_pages_in_the_half_open_range()
    {
        var table = new PageTable();
        foreach (var page in new[] { P0, SamePt, NextPt, NextPd })
            table[page] = Rw;
        Assert.Equal([SamePt, NextPt], table.Entries(P0 + 1, NextPt + 1).Select(e => e.Page));
        Assert.Equal([P0, SamePt], table.Entries(P0, NextPt).Select(e => e.Page));
        Assert.Empty(table.Entries(NextPt, NextPt));
        Assert.Empty(table.Entries(NextPd, P0));
    }

    [Fact]
    public void Entries_over_the_whole_user_half_skips_absent_tables()
    {
        // 2^35 pages: visiting them one by one would never finish; only the allocated tables are read.
        var table = new PageTable();
        var high = new PageNumber(VirtualAddress.UserEnd.Page.Value - 1);
        table[high] = Rw;
        table[new PageNumber(1)] = Rw;
        Assert.Equal([new PageNumber(1), high], table.Entries(new PageNumber(0), VirtualAddress.UserEnd.Page).Select(e => e.Page));
    }

    [Fact]
    public void Entries_lists_swapped_out_entries_and_skips_cleared_ones()
    {
        var table = new PageTable();
        table[P0] = Pte.Swapped(new SwapSlot(3));
        table[SamePt] = Rw;
        table[SamePt] = Pte.None;
        var only = Assert.Single(table.Entries(P0, P0 + 512));
        Assert.Equal(P0, only.Page);
        Assert.True(only.Pte.IsSwapped);
        Assert.Equal(new SwapSlot(3), only.Pte.Slot);
    }

    [Fact]
    public void Mapped_entries_counts_present_and_swapped_leaves_once_each()
    {
        var table = new PageTable();
        table[P0] = Rw;
        table[P0] = Rw.Without(PteFlags.Writable);    // overwriting is not a second entry
        table[SamePt] = Pte.Swapped(new SwapSlot(1));
        table[NextPml4] = Rw;
        Assert.Equal(3, table.MappedEntries);
        table[SamePt] = Pte.None;
        table[SamePt] = Pte.None;                      // clearing twice counts once
        Assert.Equal(2, table.MappedEntries);
    }

    [Fact]
    public void Table_pages_counts_the_root_and_each_table_allocated_on_demand()
    {
        var table = new PageTable();
        Assert.Equal(1, table.TablePages);
        table[P0] = Rw;
        Assert.Equal(4, table.TablePages);             // PDPT, PD and PT below the root
        table[SamePt] = Rw;
        Assert.Equal(4, table.TablePages);             // same PT
        table[NextPt] = Rw;
        Assert.Equal(5, table.TablePages);             // a new PT
        table[NextPd] = Rw;
        Assert.Equal(7, table.TablePages);             // a new PD and PT
        table[NextPml4] = Rw;
        Assert.Equal(10, table.TablePages);            // a new PDPT, PD and PT
    }
}

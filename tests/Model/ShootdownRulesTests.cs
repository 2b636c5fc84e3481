using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.PageTables;
using Faultsim.Model.Shootdowns;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Model;

public sealed class ShootdownRulesTests
{
    private static readonly Asid A = new(1);
    private static readonly Pte Writable = Pte.Mapped(new FrameNumber(3), PteFlags.User | PteFlags.Writable);

    private static PteChange Zap(ulong page) => new(new PageNumber(page), Writable, Pte.None);

    [Fact]
    public void Eager_mode_gives_a_round_per_changed_page()
    {
        var rounds = ShootdownRules.Rounds(ShootdownMode.Eager, A, [Zap(5), Zap(9)]);
        Assert.Equal([ShootdownScope.OnePage(A, new PageNumber(5)), ShootdownScope.OnePage(A, new PageNumber(9))], rounds);
    }

    [Theory]
    [InlineData(ShootdownMode.Batched)]
    [InlineData(ShootdownMode.Lazy)]
    public void Batched_and_lazy_modes_give_one_round_over_the_range_of_changed_pages(ShootdownMode mode)
    {
        var rounds = ShootdownRules.Rounds(mode, A, [Zap(9), Zap(5), Zap(7)]);
        Assert.Equal([new ShootdownScope(A, new PageNumber(5), new PageNumber(10), All: false)], rounds);
    }

    [Fact]
    public void A_change_that_revokes_nothing_needs_no_round()
    {
        var upgrade = new PteChange(new PageNumber(5), Writable.Without(PteFlags.Writable), Writable);
        Assert.Empty(ShootdownRules.Rounds(ShootdownMode.Eager, A, [upgrade, new PteChange(new PageNumber(6), Pte.None, Writable)]));
    }

    private static readonly (PageNumber, PageNumber) Pages4To12 = (new PageNumber(4), new PageNumber(12));

    /// <summary>An address space whose page 7 is being shot down (an eviction's round, not yet acknowledged by every CPU).</summary>
    private static AddressSpace Page7InFlight()
    {
        var mm = new AddressSpace(A);
        mm.FlushesPending.Started(1, ShootdownScope.OnePage(A, new PageNumber(7)));
        return mm;
    }

    [Theory]
    [InlineData(ShootdownMode.Eager)]
    [InlineData(ShootdownMode.Batched)]
    [InlineData(ShootdownMode.Lazy)]
    public void A_range_call_flushes_a_page_of_its_range_a_round_in_flight_covers_though_its_pte_is_gone(ShootdownMode mode)
    {
        var swappedOut = new PteChange(new PageNumber(7), Pte.Swapped(new SwapSlot(1)), Pte.None);
        Assert.Empty(ShootdownRules.Rounds(mode, A, [swappedOut]));    // the change alone needs none
        Assert.Equal([ShootdownScope.OnePage(A, new PageNumber(7))], ShootdownRules.RangeRounds(mode, Page7InFlight(), Pages4To12, [swappedOut]));
    }

    [Fact]
    public void Batched_mode_spans_the_changed_pages_and_the_ones_in_flight_with_one_round()
    {
        var rounds = ShootdownRules.RangeRounds(ShootdownMode.Batched, Page7InFlight(), Pages4To12, [Zap(9), Zap(10)]);
        Assert.Equal([new ShootdownScope(A, new PageNumber(7), new PageNumber(11), All: false)], rounds);
    }

    [Fact]
    public void Eager_mode_adds_a_round_for_a_page_in_flight_unless_a_change_flushes_it_already()
    {
        Assert.Equal([ShootdownScope.OnePage(A, new PageNumber(9)), ShootdownScope.OnePage(A, new PageNumber(7))],
            ShootdownRules.RangeRounds(ShootdownMode.Eager, Page7InFlight(), Pages4To12, [Zap(9)]));
        Assert.Equal([ShootdownScope.OnePage(A, new PageNumber(7))], ShootdownRules.RangeRounds(ShootdownMode.Eager, Page7InFlight(), Pages4To12, [Zap(7)]));
    }

    [Fact]
    public void A_round_in_flight_outside_the_range_or_acknowledged_already_adds_nothing()
    {
        var mm = Page7InFlight();
        Assert.Empty(ShootdownRules.RangeRounds(ShootdownMode.Batched, mm, (new PageNumber(8), new PageNumber(12)), []));
        mm.FlushesPending.Finished(1);
        Assert.Empty(ShootdownRules.RangeRounds(ShootdownMode.Batched, mm, Pages4To12, []));
    }

    [Fact]
    public void A_round_of_everything_in_flight_makes_the_call_flush_its_whole_range_in_one_round_even_in_eager_mode()
    {
        var mm = new AddressSpace(A);
        mm.FlushesPending.Started(3, ShootdownScope.Everything(A));
        Assert.Equal([new ShootdownScope(A, new PageNumber(4), new PageNumber(12), All: false)],
            ShootdownRules.RangeRounds(ShootdownMode.Eager, mm, Pages4To12, []));
    }

    [Fact]
    public void The_range_of_a_call_is_what_it_zaps_or_protects_and_all_of_the_address_space_for_fork()
    {
        var start = new VirtualAddress(0x4000);
        Assert.Equal(Pages4To12, ShootdownRules.RangeOf(new SystemCall.Munmap(start, start + 8 * 4096)));
        Assert.Equal(Pages4To12, ShootdownRules.RangeOf(new SystemCall.Mmap("m", start, 8 * 4096, Faultsim.Model.Vmas.VmaFlags.Read, null, 0)));
        Assert.Equal(Pages4To12, ShootdownRules.RangeOf(new SystemCall.Mprotect(start, start + 8 * 4096, Faultsim.Model.Vmas.VmaFlags.Read)));
        Assert.Equal(Pages4To12, ShootdownRules.RangeOf(new SystemCall.Madvise(start, start + 8 * 4096, Advice.DontNeed)));
        Assert.Equal((new PageNumber(0), VirtualAddress.UserEnd.Page), ShootdownRules.RangeOf(new SystemCall.Fork("c", new ProcessId(2))));
        Assert.Equal(default, ShootdownRules.RangeOf(new SystemCall.Madvise(start, start + 8 * 4096, Advice.PageOut)));
    }

    [Fact]
    public void Ipis_go_to_every_target_but_the_initiator_and_none_in_lazy_mode()
    {
        CpuId[] targets = [new(0), new(1), new(3)];
        Assert.Equal(2, ShootdownRules.Ipis(ShootdownMode.Eager, targets, new CpuId(1)));
        Assert.Equal(3, ShootdownRules.Ipis(ShootdownMode.Batched, targets, new CpuId(2)));
        Assert.Equal(0, ShootdownRules.Ipis(ShootdownMode.Lazy, targets, new CpuId(1)));
    }
}

using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.PageTables;
using Faultsim.Model.Shootdowns;

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

    [Fact]
    public void Ipis_go_to_every_target_but_the_initiator_and_none_in_lazy_mode()
    {
        CpuId[] targets = [new(0), new(1), new(3)];
        Assert.Equal(2, ShootdownRules.Ipis(ShootdownMode.Eager, targets, new CpuId(1)));
        Assert.Equal(3, ShootdownRules.Ipis(ShootdownMode.Batched, targets, new CpuId(2)));
        Assert.Equal(0, ShootdownRules.Ipis(ShootdownMode.Lazy, targets, new CpuId(1)));
    }
}

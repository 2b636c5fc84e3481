using Faultsim.Model.Addressing;
using Faultsim.Model.Replacement;

namespace Faultsim.Tests.Model;

/// <summary>Each replacement policy on its own, fed frames and references by hand.</summary>
public sealed class ReplacementPolicyTests
{
    private static readonly Asid Mm = new(1);

    private static FrameNumber F(uint frame) => new(frame);

    private static PageKey Page(ulong page) => new(Mm, new PageNumber(page));

    private static void Insert(IReplacementPolicy policy, params uint[] frames)
    {
        foreach (var frame in frames)
            policy.Inserted(F(frame));
    }

    [Fact]
    public void Fifo_evicts_in_the_order_frames_were_inserted_whatever_is_referenced()
    {
        var fifo = new FifoPolicy();
        Insert(fifo, 3, 1, 2);
        fifo.Referenced(F(3), Page(3));
        Assert.Equal(F(3), fifo.ChooseVictim());
        fifo.Removed(F(3));
        Assert.Equal(F(1), fifo.ChooseVictim());
        fifo.Removed(F(1));
        fifo.Inserted(F(3));
        Assert.Equal(F(2), fifo.ChooseVictim());
    }

    [Fact]
    public void Lru_moves_a_referenced_frame_to_the_back()
    {
        var lru = new LruPolicy();
        Insert(lru, 1, 2, 3);
        Assert.Equal(F(1), lru.ChooseVictim());
        lru.Referenced(F(1), Page(1));
        Assert.Equal(F(2), lru.ChooseVictim());
        lru.Referenced(F(2), Page(2));
        Assert.Equal(F(3), lru.ChooseVictim());
        lru.Removed(F(3));
        Assert.Equal(F(1), lru.ChooseVictim());
    }

    [Fact]
    public void Clock_gives_a_referenced_frame_a_second_chance()
    {
        var clock = new ClockPolicy();
        Insert(clock, 1, 2, 3);                  // all loaded with their use bit set
        Assert.Equal(F(1), clock.ChooseVictim()); // one sweep clears every bit, then 1 is first without one
        clock.Removed(F(1));
        clock.Referenced(F(2), Page(2));
        Assert.Equal(F(3), clock.ChooseVictim()); // 2 loses its bit and is passed over
        clock.Removed(F(3));
        Assert.Equal(F(2), clock.ChooseVictim()); // its second chance is spent
    }

    [Fact]
    public void Clock_without_references_after_a_sweep_behaves_like_fifo()
    {
        var clock = new ClockPolicy();
        Insert(clock, 4, 5, 6);
        Assert.Equal(F(4), clock.ChooseVictim());
        clock.Removed(F(4));
        Assert.Equal(F(5), clock.ChooseVictim());
        clock.Removed(F(5));
        Assert.Equal(F(6), clock.ChooseVictim());
    }

    [Fact]
    public void Opt_evicts_the_frame_whose_page_is_used_again_farthest_in_the_recorded_future()
    {
        PageKey a = Page(0xa), b = Page(0xb), c = Page(0xc);
        var opt = new OptimalPolicy([a, b, c, c, b, a]);
        Insert(opt, 1, 2, 3);
        opt.Referenced(F(1), a);                 // next use of A: index 5
        opt.Referenced(F(2), b);                 // next use of B: index 4
        opt.Referenced(F(3), c);                 // next use of C: index 3
        Assert.Equal(F(1), opt.ChooseVictim());
        opt.Referenced(F(3), c);                 // reference 3: C is never used again
        Assert.Equal(F(3), opt.ChooseVictim());
    }

    [Fact]
    public void Opt_prefers_a_page_never_used_again()
    {
        PageKey a = Page(0xa), b = Page(0xb), c = Page(0xc);
        var opt = new OptimalPolicy([a, b, c, a, b]);
        Insert(opt, 1, 2, 3);
        opt.Referenced(F(1), a);
        opt.Referenced(F(2), b);
        opt.Referenced(F(3), c);
        Assert.Equal(F(3), opt.ChooseVictim());
        opt.Removed(F(3));
        Assert.Equal(F(2), opt.ChooseVictim());  // B (next at 4) is farther than A (next at 3)
    }

    [Fact]
    public void Recording_policy_records_every_reference_in_order_and_delegates()
    {
        var recorder = new RecordingPolicy(new FifoPolicy());
        Insert(recorder, 1, 2);
        recorder.Referenced(F(2), Page(7));
        recorder.Referenced(F(1), Page(8));
        recorder.Referenced(F(2), Page(7));
        Assert.Equal([Page(7), Page(8), Page(7)], recorder.References);
        Assert.Equal(F(1), recorder.ChooseVictim());
    }
}

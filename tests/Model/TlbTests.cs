using Faultsim.Model.Addressing;
using Faultsim.Model.PageTables;
using Faultsim.Model.Tlbs;

namespace Faultsim.Tests.Model;

/// <summary>The set-associative, ASID-tagged TLB.</summary>
public sealed class TlbTests
{
    private static readonly Asid A1 = new(1), A2 = new(2);

    private static Translation T(uint frame) => new(new FrameNumber(frame), 0, PteFlags.Present | PteFlags.User);

    private static PageNumber P(ulong page) => new(page);

    private static bool Hit(Tlb tlb, Asid asid, ulong page) => tlb.TryLookup(asid, P(page), out _);

    [Fact]
    public void A_filled_translation_hits_and_an_unfilled_page_misses()
    {
        var tlb = new Tlb(64, 4);
        tlb.Fill(A1, P(5), T(50));
        Assert.True(tlb.TryLookup(A1, P(5), out var found));
        Assert.Equal(T(50), found);
        Assert.False(tlb.TryLookup(A1, P(6), out var missing));
        Assert.Equal(default, missing);
    }

    [Fact]
    public void Asid_tags_keep_the_same_page_of_two_address_spaces_apart()
    {
        var tlb = new Tlb(64, 4);
        tlb.Fill(A1, P(5), T(50));
        Assert.False(Hit(tlb, A2, 5));
        tlb.Fill(A2, P(5), T(60));
        Assert.True(tlb.TryLookup(A1, P(5), out var one));
        Assert.True(tlb.TryLookup(A2, P(5), out var two));
        Assert.Equal(new FrameNumber(50), one.Frame);
        Assert.Equal(new FrameNumber(60), two.Frame);
    }

    [Fact]
    public void Refilling_a_cached_page_replaces_its_translation_in_place()
    {
        var tlb = new Tlb(8, 2);
        tlb.Fill(A1, P(0), T(1));
        tlb.Fill(A1, P(4), T(2));
        tlb.Fill(A1, P(0), T(3));       // same set, same page: no eviction of page 4
        Assert.True(tlb.TryLookup(A1, P(0), out var t));
        Assert.Equal(T(3), t);
        Assert.True(Hit(tlb, A1, 4));
    }

    [Fact]
    public void A_full_set_evicts_its_least_recently_used_entry_and_leaves_other_sets_alone()
    {
        // 8 entries, 2 ways: 4 sets; pages 0, 4 and 8 share set 0.
        var tlb = new Tlb(8, 2);
        tlb.Fill(A1, P(0), T(0));
        tlb.Fill(A1, P(4), T(4));
        tlb.Fill(A1, P(1), T(1));
        Assert.True(Hit(tlb, A1, 0));   // 0 is now more recent than 4
        tlb.Fill(A1, P(8), T(8));
        Assert.False(Hit(tlb, A1, 4));
        Assert.True(Hit(tlb, A1, 0));
        Assert.True(Hit(tlb, A1, 8));
        Assert.True(Hit(tlb, A1, 1));
        tlb.Fill(A1, P(12), T(12));     // 0 was looked up before 8: 0 goes
        Assert.False(Hit(tlb, A1, 0));
        Assert.True(Hit(tlb, A1, 8));
    }

    [Fact]
    public void Invalidate_drops_one_page_of_one_address_space_and_says_whether_it_was_cached()
    {
        var tlb = new Tlb(64, 4);
        tlb.Fill(A1, P(5), T(50));
        tlb.Fill(A2, P(5), T(60));
        Assert.True(tlb.Invalidate(A1, P(5)));
        Assert.False(tlb.Invalidate(A1, P(5)));
        Assert.False(Hit(tlb, A1, 5));
        Assert.True(Hit(tlb, A2, 5));
    }

    [Theory]
    [InlineData(1UL, 4UL)]          // a short range: page by page
    [InlineData(1UL, 4UL + 1000)]   // longer than the TLB: one sweep over every entry
    public void Invalidate_range_drops_the_pages_in_range_of_one_address_space_only(ulong from, ulong to)
    {
        var tlb = new Tlb(16, 4);
        for (ulong page = 0; page < 6; page++)
            tlb.Fill(A1, P(page), T((uint)page));
        tlb.Fill(A2, P(2), T(99));
        tlb.InvalidateRange(A1, P(from), P(to));
        for (ulong page = 0; page < 6; page++)
            Assert.Equal(page < from || page >= to, Hit(tlb, A1, page));
        Assert.True(Hit(tlb, A2, 2));
    }

    [Fact]
    public void Invalidate_asid_drops_every_entry_of_that_address_space_and_no_other()
    {
        var tlb = new Tlb(16, 4);
        for (ulong page = 0; page < 8; page++)
        {
            tlb.Fill(A1, P(page), T((uint)page));
            tlb.Fill(A2, P(page + 100), T((uint)page));
        }
        tlb.InvalidateAsid(A1);
        for (ulong page = 0; page < 8; page++)
        {
            Assert.False(Hit(tlb, A1, page));
            Assert.True(Hit(tlb, A2, page + 100));
        }
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(48, 4)]     // not a power of two
    [InlineData(64, 0)]
    [InlineData(64, 3)]     // does not divide the entries
    [InlineData(64, 128)]
    public void A_geometry_that_is_not_a_power_of_two_or_not_divisible_into_ways_throws(int entries, int ways) =>
        Assert.Throws<ArgumentException>(() => new Tlb(entries, ways));

    [Fact]
    public void A_fully_associative_tlb_holds_as_many_pages_as_it_has_entries()
    {
        var tlb = new Tlb(4, 4);
        Assert.Equal(4, tlb.Capacity);
        for (ulong page = 0; page < 4; page++)
            tlb.Fill(A1, P(page * 7), T((uint)page));
        for (ulong page = 0; page < 4; page++)
            Assert.True(Hit(tlb, A1, page * 7));
        tlb.Fill(A1, P(100), T(100));
        Assert.False(Hit(tlb, A1, 0));     // the least recently used of the four
    }
}

using Faultsim.Model.Addressing;
using Faultsim.Model.Vmas;

namespace Faultsim.Tests.Model;

/// <summary>The sorted VMA set: find_vma, and map / unmap / protect with their splits and merges.</summary>
public sealed class VmaTreeTests
{
    private const VmaFlags R = VmaFlags.Read, Rw = VmaFlags.Read | VmaFlags.Write;
    private const ulong K4 = 0x1000;

    private static Vma Anon(ulong start, ulong end, VmaFlags flags = Rw) =>
        new(new VirtualAddress(start), new VirtualAddress(end), flags, Backing.Anonymous.Instance);

    private static Vma FileVma(ulong start, ulong end, int file, ulong pageOffset, VmaFlags flags = R) =>
        new(new VirtualAddress(start), new VirtualAddress(end), flags, new Backing.File(new FileId(file), pageOffset));

    private static VmaTree Tree(params Vma[] vmas)
    {
        var tree = new VmaTree();
        foreach (var vma in vmas)
            tree.Map(vma);
        return tree;
    }

    private static VirtualAddress A(ulong value) => new(value);

    [Fact]
    public void Find_returns_the_first_vma_ending_above_the_address_even_when_it_starts_above_it()
    {
        var low = Anon(0x1000, 0x3000);
        var high = Anon(0x5000, 0x6000, R);
        var tree = Tree(low, high);
        Assert.Equal(low, tree.Find(A(0x0)));
        Assert.Equal(low, tree.Find(A(0x2fff)));
        Assert.Equal(high, tree.Find(A(0x3000)));     // in the hole: find_vma gives the next VMA
        Assert.Equal(high, tree.Find(A(0x5fff)));
        Assert.Null(tree.Find(A(0x6000)));
    }

    [Fact]
    public void Find_containing_returns_only_a_vma_that_holds_the_address()
    {
        var low = Anon(0x1000, 0x3000);
        var high = Anon(0x5000, 0x6000, R);
        var tree = Tree(low, high);
        Assert.Null(tree.FindContaining(A(0x0fff)));
        Assert.Equal(low, tree.FindContaining(A(0x1000)));
        Assert.Null(tree.FindContaining(A(0x3000)));
        Assert.Null(tree.FindContaining(A(0x4fff)));
        Assert.Equal(high, tree.FindContaining(A(0x5000)));
        Assert.Null(tree.FindContaining(A(0x6000)));
    }

    [Fact]
    public void Map_over_an_existing_range_replaces_it_and_returns_what_it_replaced()
    {
        var tree = Tree(Anon(0x1000, 0x5000));
        var replaced = tree.Map(Anon(0x2000, 0x3000, R));
        Assert.Equal([Anon(0x2000, 0x3000)], replaced);
        Assert.Equal([Anon(0x1000, 0x2000), Anon(0x2000, 0x3000, R), Anon(0x3000, 0x5000)], tree.All);
    }

    [Fact]
    public void Map_over_exactly_an_existing_vma_leaves_one_vma_with_the_new_flags()
    {
        var tree = Tree(Anon(0x1000, 0x3000));
        tree.Map(Anon(0x1000, 0x3000, R));
        Assert.Equal([Anon(0x1000, 0x3000, R)], tree.All);
    }

    [Fact]
    public void Mlock_splits_out_the_locked_piece_munlock_merges_it_back_and_no_bytes_change_nothing()
    {
        var tree = Tree(Anon(0x1000, 0x5000));
        Assert.NotNull(tree.SetLocked(A(0x2000), A(0x3000), locked: true));
        Assert.Equal([Anon(0x1000, 0x2000), Anon(0x2000, 0x3000, Rw | VmaFlags.Locked), Anon(0x3000, 0x5000)], tree.All);
        Assert.Empty(tree.SetLocked(A(0x4000), A(0x4000), locked: true)!);
        Assert.Empty(tree.Protect(A(0x4000), A(0x4000), R)!);
        Assert.Equal(3, tree.Count);
        tree.SetLocked(A(0x1000), A(0x5000), locked: false);
        Assert.Equal([Anon(0x1000, 0x5000)], tree.All);
        Assert.Null(tree.SetLocked(A(0x1000), A(0x6000), locked: true)); // ENOMEM: a hole
        Assert.Equal([Anon(0x1000, 0x5000)], tree.All);
    }

    [Fact]
    public void Mremap_extends_a_vma_into_free_pages_and_finds_the_lowest_free_range_above_one()
    {
        var tree = Tree(Anon(0x1000, 0x2000), Anon(0x3000, 0x4000, R));
        Assert.True(tree.IsFree(A(0x2000), A(0x3000)));
        Assert.False(tree.IsFree(A(0x2000), A(0x3001)));
        tree.Extend(tree.All[0], A(0x3000));
        Assert.Equal(A(0x4000), tree.FreeRangeAbove(A(0x3000), 0x3000));
        Assert.Throws<InvalidOperationException>(() => tree.Extend(tree.All[0], A(0x3800)));
    }

    [Fact]
    public void Munmap_of_the_middle_of_a_vma_splits_it_in_two()
    {
        var tree = Tree(Anon(0x1000, 0x5000));
        var removed = tree.Unmap(A(0x2000), A(0x3000));
        Assert.Equal([Anon(0x2000, 0x3000)], removed);
        Assert.Equal([Anon(0x1000, 0x2000), Anon(0x3000, 0x5000)], tree.All);
        Assert.Null(tree.FindContaining(A(0x2800)));
    }

    [Fact]
    public void Munmap_of_a_file_vma_keeps_each_pieces_file_offset()
    {
        var tree = Tree(FileVma(0x1000, 0x5000, file: 0, pageOffset: 10));
        tree.Unmap(A(0x2000), A(0x3000));
        Assert.Equal([FileVma(0x1000, 0x2000, 0, 10), FileVma(0x3000, 0x5000, 0, 12)], tree.All);
    }

    [Fact]
    public void Munmap_across_several_vmas_and_holes_removes_every_piece_in_range()
    {
        var tree = Tree(Anon(0x1000, 0x3000), Anon(0x4000, 0x6000, R), Anon(0x8000, 0x9000));
        var removed = tree.Unmap(A(0x2000), A(0x5000));
        Assert.Equal([Anon(0x2000, 0x3000), Anon(0x4000, 0x5000, R)], removed);
        Assert.Equal([Anon(0x1000, 0x2000), Anon(0x5000, 0x6000, R), Anon(0x8000, 0x9000)], tree.All);
    }

    [Fact]
    public void Protect_of_the_middle_splits_in_three_and_protecting_it_back_merges_the_neighbours_again()
    {
        var tree = Tree(Anon(0x1000, 0x5000));
        var before = tree.Protect(A(0x2000), A(0x3000), R);
        Assert.Equal([Anon(0x2000, 0x3000)], before);
        Assert.Equal([Anon(0x1000, 0x2000), Anon(0x2000, 0x3000, R), Anon(0x3000, 0x5000)], tree.All);

        tree.Protect(A(0x2000), A(0x3000), Rw);
        Assert.Equal([Anon(0x1000, 0x5000)], tree.All);
    }

    [Fact]
    public void Protect_changes_only_the_protection_bits_and_keeps_shared_and_grows_down()
    {
        var stack = Anon(0x1000, 0x3000, Rw | VmaFlags.GrowsDown | VmaFlags.Shared);
        var tree = Tree(stack);
        tree.Protect(A(0x1000), A(0x3000), R | VmaFlags.Exec | VmaFlags.Shared);
        Assert.Equal([Anon(0x1000, 0x3000, R | VmaFlags.Exec | VmaFlags.GrowsDown | VmaFlags.Shared)], tree.All);
    }

    [Fact]
    public void Adjacent_anonymous_vmas_with_equal_flags_merge_and_with_different_flags_do_not()
    {
        var tree = Tree(Anon(0x1000, 0x2000), Anon(0x2000, 0x3000));
        Assert.Equal([Anon(0x1000, 0x3000)], tree.All);
        tree.Map(Anon(0x3000, 0x4000, R));
        Assert.Equal(2, tree.Count);
        tree.Map(Anon(0x0, 0x1000));
        Assert.Equal([Anon(0x0, 0x3000), Anon(0x3000, 0x4000, R)], tree.All);
    }

    [Fact]
    public void Mapping_the_hole_between_two_equal_vmas_merges_all_three()
    {
        var tree = Tree(Anon(0x1000, 0x2000), Anon(0x3000, 0x4000));
        tree.Map(Anon(0x2000, 0x3000));
        Assert.Equal([Anon(0x1000, 0x4000)], tree.All);
    }

    [Fact]
    public void File_vmas_merge_only_when_the_second_continues_the_first_at_the_next_file_offset()
    {
        Assert.Equal([FileVma(0x1000, 0x3000, 0, 5)], Tree(FileVma(0x1000, 0x2000, 0, 5), FileVma(0x2000, 0x3000, 0, 6)).All);
        Assert.Equal(2, Tree(FileVma(0x1000, 0x2000, 0, 5), FileVma(0x2000, 0x3000, 0, 7)).Count);  // offset gap
        Assert.Equal(2, Tree(FileVma(0x1000, 0x2000, 0, 5), FileVma(0x2000, 0x3000, 1, 6)).Count);  // another file
        Assert.Equal(2, Tree(FileVma(0x1000, 0x2000, 0, 5), Anon(0x2000, 0x3000, R)).Count);        // anonymous
        Assert.Equal(2, Tree(Anon(0x1000, 0x2000, R), FileVma(0x2000, 0x3000, 0, 0)).Count);
    }

    [Fact]
    public void Protect_over_a_hole_returns_null_and_changes_nothing()
    {
        var tree = Tree(Anon(0x1000, 0x2000), Anon(0x3000, 0x4000));
        var before = tree.All.ToList();
        Assert.Null(tree.Protect(A(0x1000), A(0x4000), R));
        Assert.Null(tree.Protect(A(0x0), A(0x2000), R));         // the hole at the start
        Assert.Null(tree.Protect(A(0x3000), A(0x5000), R));      // the hole at the end
        Assert.Equal(before, tree.All);
        Assert.True(tree.IsFullyMapped(A(0x1000), A(0x2000)));
        Assert.False(tree.IsFullyMapped(A(0x1000), A(0x3001)));
    }

    [Fact]
    public void Protect_across_two_touching_vmas_with_different_flags_merges_them_into_one()
    {
        var tree = Tree(Anon(0x1000, 0x2000, R), Anon(0x2000, 0x3000));
        Assert.NotNull(tree.Protect(A(0x1000), A(0x3000), Rw));
        Assert.Equal([Anon(0x1000, 0x3000)], tree.All);
    }

    [Fact]
    public void Grow_down_moves_the_start_of_a_grows_down_vma()
    {
        var stack = Anon(0x10 * K4, 0x20 * K4, Rw | VmaFlags.GrowsDown);
        var tree = Tree(Anon(0x1000, 0x2000), stack);
        var grown = tree.GrowDown(stack, A(0xe * K4));
        Assert.Equal(A(0xe * K4), grown.Start);
        Assert.Equal(stack.End, grown.End);
        Assert.Equal(grown, tree.FindContaining(A(0xe * K4)));
        Assert.Equal(2, tree.Count);
    }

    [Fact]
    public void Grow_down_refuses_a_vma_that_does_not_grow_down_a_start_that_is_not_lower_and_an_overlap()
    {
        var heap = Anon(0x1000, 0x4000);
        var stack = Anon(0x10 * K4, 0x20 * K4, Rw | VmaFlags.GrowsDown);
        var tree = Tree(heap, stack);
        Assert.Throws<InvalidOperationException>(() => tree.GrowDown(heap, A(0x0)));
        Assert.Throws<InvalidOperationException>(() => tree.GrowDown(stack, stack.Start));
        Assert.Throws<InvalidOperationException>(() => tree.GrowDown(stack, A(0x3000)));   // into the heap
        Assert.Equal([heap, stack], tree.All);
    }

    [Fact]
    public void Previous_returns_the_vma_just_below()
    {
        var heap = Anon(0x1000, 0x2000);
        var stack = Anon(0x10 * K4, 0x20 * K4, Rw | VmaFlags.GrowsDown);
        var tree = Tree(heap, stack);
        Assert.Equal(heap, tree.Previous(stack));
        Assert.Null(tree.Previous(heap));
    }
}

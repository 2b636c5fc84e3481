using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Faults;
using Faultsim.Model.PageTables;
using Faultsim.Model.Storage;
using Faultsim.Model.Vmas;

namespace Faultsim.Tests.Model;

/// <summary>An address space's system calls as VMA and PTE changes: fork, mprotect, munmap.</summary>
public sealed class AddressSpaceTests
{
    private const VmaFlags Rw = VmaFlags.Read | VmaFlags.Write;
    private static readonly VirtualAddress PrivateStart = new(0x1000_0000), SharedStart = new(0x2000_0000);
    private static readonly Vma Private = new(PrivateStart, PrivateStart + 0x4000, Rw, Backing.Anonymous.Instance);
    private static readonly Vma Shared = new(SharedStart, SharedStart + 0x4000, Rw | VmaFlags.Shared, Backing.Anonymous.Instance);

    /// <summary>An address space with both VMAs and a writable, present PTE on each of their first two pages.</summary>
    private static AddressSpace Populated()
    {
        var mm = new AddressSpace(new Asid(1));
        mm.Map(Private);
        mm.Map(Shared);
        uint frame = 10;
        foreach (var vma in new[] { Private, Shared })
        {
            for (ulong i = 0; i < 2; i++)
                mm.Install(vma.FirstPage + i, Pte.Mapped(new FrameNumber(frame++), AddressSpace.FlagsFor(vma, writable: true)));
        }
        return mm;
    }

    [Fact]
    public void Fork_write_protects_the_parents_private_writable_ptes_and_marks_them_cow()
    {
        var mm = Populated();
        var (child, changes) = mm.Fork(new Asid(2));
        foreach (var page in new[] { Private.FirstPage, Private.FirstPage + 1 })
        {
            foreach (var space in new[] { mm, child })
            {
                var pte = space.Pages[page];
                Assert.True(pte.IsPresent);
                Assert.False(pte.IsWritable);
                Assert.True(pte.IsCow);
            }
            Assert.Equal(mm.Pages[page], child.Pages[page]);
        }
        Assert.Equal(2, changes.Count);
    }

    [Fact]
    public void Fork_leaves_shared_ptes_writable_in_the_parent_and_copies_none_to_the_child()
    {
        var mm = Populated();
        var before = mm.Pages[Shared.FirstPage];
        var (child, _) = mm.Fork(new Asid(2));
        Assert.Equal(before, mm.Pages[Shared.FirstPage]);
        Assert.True(before.IsWritable);
        Assert.False(before.IsCow);
        Assert.True(child.Pages[Shared.FirstPage].IsNone);   // a shared mapping has no anonymous pages: the child faults it in again
        Assert.NotNull(child.Vmas.FindContaining(Shared.Start));
    }

    [Fact]
    public void Fork_copies_the_ptes_of_a_vma_once_it_has_had_an_anonymous_page_and_not_of_one_that_only_mapped_the_zero_page()
    {
        var mm = new AddressSpace(new Asid(1));
        mm.Map(Private);
        mm.Install(Private.FirstPage, Pte.Mapped(FrameNumber.Zero, AddressSpace.FlagsFor(Private, writable: false)));
        Assert.False(mm.Vmas.FindContaining(Private.Start)!.HasAnonymousPages);
        var (zeroOnly, changes) = mm.Fork(new Asid(2));
        Assert.True(zeroOnly.Pages[Private.FirstPage].IsNone);
        Assert.Empty(changes);
        mm.Install(Private.FirstPage + 1, Pte.Mapped(new FrameNumber(5), AddressSpace.FlagsFor(Private, writable: true)));
        Assert.True(mm.Vmas.FindContaining(Private.Start)!.HasAnonymousPages);
        var (child, _) = mm.Fork(new Asid(3));
        Assert.Equal(FrameNumber.Zero, child.Pages[Private.FirstPage].Frame);   // now every PTE of the VMA is copied
        Assert.Equal(new FrameNumber(5), child.Pages[Private.FirstPage + 1].Frame);
        Assert.True(child.Vmas.FindContaining(Private.Start)!.HasAnonymousPages);
    }

    [Fact]
    public void A_private_file_mapping_has_anonymous_pages_only_once_a_write_copied_one()
    {
        var file = new Vma(SharedStart, SharedStart + 0x4000, Rw, new Backing.File(new FileId(0), 0));
        Assert.False(InstallRules.MakesAnonymous(file, Pte.Mapped(new FrameNumber(4), InstallRules.CachedPage(file, AccessKind.Read))));
        Assert.True(InstallRules.MakesAnonymous(file, Pte.Mapped(new FrameNumber(6), InstallRules.NewPage(file))));
        Assert.False(InstallRules.MakesAnonymous(file with { Flags = Rw | VmaFlags.Shared }, Pte.Mapped(new FrameNumber(6), InstallRules.NewPage(file))));
    }

    [Fact]
    public void Fork_returns_exactly_the_parents_changed_ptes_which_need_a_shootdown()
    {
        var mm = Populated();
        var old0 = mm.Pages[Private.FirstPage];
        var old1 = mm.Pages[Private.FirstPage + 1];
        var (_, changes) = mm.Fork(new Asid(2));
        Assert.Equal(
            [new PteChange(Private.FirstPage, old0, mm.Pages[Private.FirstPage]), new PteChange(Private.FirstPage + 1, old1, mm.Pages[Private.FirstPage + 1])],
            changes);
        Assert.All(changes, c => Assert.True(c.NeedsShootdown));
    }

    [Fact]
    public void Fork_copies_the_vmas_and_swapped_entries_and_the_child_is_independent_afterwards()
    {
        var mm = Populated();
        mm.Install(Private.FirstPage + 3, Pte.Swapped(new SwapSlot(9)));
        var (child, _) = mm.Fork(new Asid(2));
        Assert.Equal(new Asid(2), child.Asid);
        Assert.Equal(mm.Vmas.All, child.Vmas.All);
        Assert.Equal(Pte.Swapped(new SwapSlot(9)), child.Pages[Private.FirstPage + 3]);
        Assert.Equal(0, child.Cpus.Count);
        child.Unmap(Private.Start, Private.End);
        Assert.Equal(2, mm.Vmas.Count);
        Assert.True(mm.Pages[Private.FirstPage].IsPresent);
    }

    [Fact]
    public void Protect_to_prot_none_keeps_the_frame_under_prot_none_and_back_to_rw_restores_present()
    {
        var mm = Populated();
        var page = Private.FirstPage;
        var original = mm.Pages[page];

        var none = mm.Protect(Private.Start, Private.End, VmaFlags.None)!;
        var hidden = mm.Pages[page];
        Assert.False(hidden.IsPresent);
        Assert.True(hidden.HoldsFrame);
        Assert.True(hidden.Has(PteFlags.ProtNone));
        Assert.False(hidden.IsSwapped);
        Assert.Equal(original.Frame, hidden.Frame);
        Assert.Contains(none, c => c.Page == page && c.NeedsShootdown);

        Assert.NotNull(mm.Protect(Private.Start, Private.End, Rw));
        var restored = mm.Pages[page];
        Assert.True(restored.IsPresent);
        Assert.False(restored.Has(PteFlags.ProtNone));
        Assert.Equal(original.Frame, restored.Frame);
        Assert.Equal(original, restored);
    }

    [Fact]
    public void Protect_removing_write_clears_writable_and_reports_a_change_needing_a_shootdown()
    {
        var mm = Populated();
        var changes = mm.Protect(Private.Start, Private.End, VmaFlags.Read)!;
        Assert.Equal(2, changes.Count);
        Assert.All(changes, c =>
        {
            Assert.True(c.Old.IsWritable);
            Assert.False(c.New.IsWritable);
            Assert.True(c.New.IsPresent);
            Assert.Equal(c.Old.Frame, c.New.Frame);
            Assert.True(c.NeedsShootdown);
        });
        Assert.False(mm.Pages[Private.FirstPage].IsWritable);
        Assert.Equal(VmaFlags.Read, mm.Vmas.FindContaining(Private.Start)!.Flags);
    }

    [Fact]
    public void Protect_adding_write_makes_the_pages_the_process_dirtied_and_owns_alone_writable_at_once_without_a_shootdown()
    {
        var mm = Populated();
        var original = mm.Pages[Private.FirstPage];
        mm.Protect(Private.Start, Private.End, VmaFlags.Read);
        var changes = mm.Protect(Private.Start, Private.End, Rw)!;
        Assert.Equal(2, changes.Count);
        Assert.All(changes, c => Assert.False(c.NeedsShootdown)); // an upgrade: a stale read-only entry only faults spuriously
        Assert.Equal(original, mm.Pages[Private.FirstPage]);       // writable again, as the write fault would have made it
    }

    [Fact]
    public void Protect_adding_write_leaves_pages_a_fork_shared_read_only_in_parent_and_child()
    {
        var mm = Populated();
        var (child, _) = mm.Fork(new Asid(2));
        foreach (var space in new[] { mm, child })
        {
            space.Protect(Private.Start, Private.End, VmaFlags.Read);
            Assert.Empty(space.Protect(Private.Start, Private.End, Rw)!);
            Assert.False(space.Pages[Private.FirstPage].IsWritable); // the write fault decides: copy, or reuse
        }
    }

    [Fact]
    public void Protect_adding_write_leaves_a_clean_page_read_only()
    {
        var mm = new AddressSpace(new Asid(1));
        var sharedFile = Shared with { Backing = new Backing.File(new FileId(0), 0) }; // ext4-like: write-notify
        mm.Map(Private);
        mm.Map(sharedFile);
        foreach (var vma in new[] { Private, sharedFile })
            mm.Install(vma.FirstPage, Pte.Mapped(new FrameNumber(7), AddressSpace.FlagsFor(vma, writable: false)));
        mm.Protect(Private.Start, Shared.End, VmaFlags.Read);
        Assert.Empty(mm.Protect(Private.Start, Private.End, Rw)!);
        Assert.Empty(mm.Protect(Shared.Start, Shared.End, Rw)!);
        Assert.False(mm.Pages[Private.FirstPage].IsWritable);
        Assert.False(mm.Pages[Shared.FirstPage].IsWritable); // a shared file page's first write still notifies the file
    }

    [Fact]
    public void Protect_adding_write_makes_every_present_page_of_a_shmem_mapping_writable_as_it_takes_no_write_notify()
    {
        var mm = new AddressSpace(new Asid(1));
        var shmem = Shared with { Backing = new Backing.File(new FileId(FileTable.ShmemBase), 0, Shmem: true) };
        mm.Map(shmem);
        mm.Install(shmem.FirstPage, Pte.Mapped(new FrameNumber(7), AddressSpace.FlagsFor(shmem, writable: false)));
        mm.Protect(shmem.Start, shmem.End, VmaFlags.Read);
        Assert.Single(mm.Protect(shmem.Start, shmem.End, Rw)!);
        Assert.True(mm.Pages[shmem.FirstPage].IsWritable);
    }

    [Fact]
    public void Protect_adding_write_makes_a_dirty_page_of_a_shared_mapping_writable_at_once()
    {
        var mm = Populated();
        mm.Protect(Shared.Start, Shared.End, VmaFlags.Read);
        Assert.False(mm.Pages[Shared.FirstPage].IsWritable);
        mm.Protect(Shared.Start, Shared.End, Rw);
        Assert.True(mm.Pages[Shared.FirstPage].IsWritable);
    }

    [Fact]
    public void The_write_upgrade_never_takes_the_zero_page_or_a_pte_marked_cow()
    {
        var dirty = PteFlags.User | PteFlags.Accessed | PteFlags.Dirty;
        Assert.True(InstallRules.WritableOnProtect(Pte.Mapped(new FrameNumber(3), dirty), shared: false));
        Assert.False(InstallRules.WritableOnProtect(Pte.Mapped(FrameNumber.Zero, dirty), shared: false));
        Assert.False(InstallRules.WritableOnProtect(Pte.Mapped(new FrameNumber(3), dirty | PteFlags.Cow), shared: false));
        Assert.False(InstallRules.WritableOnProtect(Pte.Swapped(new SwapSlot(1)), shared: false));
    }

    [Fact]
    public void Protect_of_a_range_with_a_hole_returns_null_and_leaves_the_ptes_alone()
    {
        var mm = Populated();
        var before = mm.Pages[Private.FirstPage];
        Assert.Null(mm.Protect(Private.Start, Shared.End, VmaFlags.Read));
        Assert.Equal(before, mm.Pages[Private.FirstPage]);
        Assert.Equal(Rw, mm.Vmas.FindContaining(Private.Start)!.Flags);
    }

    [Fact]
    public void Unmap_returns_the_removed_ptes_and_clears_only_them()
    {
        var mm = Populated();
        var second = mm.Pages[Private.FirstPage + 1];
        var changes = mm.Unmap(Private.Start + 0x1000, Private.End);
        Assert.Equal([new PteChange(Private.FirstPage + 1, second, Pte.None)], changes);
        Assert.True(mm.Pages[Private.FirstPage + 1].IsNone);
        Assert.True(mm.Pages[Private.FirstPage].IsPresent);
        Assert.Null(mm.Vmas.FindContaining(Private.Start + 0x1000));
        Assert.NotNull(mm.Vmas.FindContaining(Private.Start));
    }

    [Fact]
    public void Dont_need_drops_the_ptes_and_keeps_the_vma()
    {
        var mm = Populated();
        var changes = mm.DontNeed(Private.Start, Private.End);
        Assert.Equal(2, changes.Count);
        Assert.Empty(mm.Pages.Entries(Private.FirstPage, Private.EndPage));
        Assert.NotNull(mm.Vmas.FindContaining(Private.Start));
    }

    [Fact]
    public void Teardown_removes_every_vma_and_returns_every_pte()
    {
        var mm = Populated();
        Assert.Equal(4, mm.Teardown().Count);
        Assert.Equal(0, mm.Vmas.Count);
        Assert.Equal(0, mm.Pages.MappedEntries);
    }
}

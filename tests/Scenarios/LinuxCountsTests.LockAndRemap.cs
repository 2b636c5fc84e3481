using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Memory;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;
using static Faultsim.Tests.Model.Workloads;

namespace Faultsim.Tests.Scenarios;

// mlock, munlock, MAP_POPULATE, MAP_LOCKED, mremap and shared memory (shmem against write-notify files), each on both
// engines with the getrusage figures Linux gives for the same pattern.
public sealed partial class LinuxCountsTests
{
    private const ulong Rw = (ulong)(VmaFlags.Read | VmaFlags.Write);

    private static Workload TwoRegions(string script, int frames = 0, ulong bufPages = 2, ulong otherPages = 2) =>
        Make(new MachineSpec { Cpus = 1, Frames = frames },
            [Process("p", Anon("buf", Heap, bufPages * 4096), Anon("other", Heap + 0x10_0000, otherPages * 4096))], script);

    [Fact]
    public void Mlock_faults_every_page_in_as_the_callers_minor_faults_and_no_access_faults_after_it()
    {
        foreach (var result in Both(OneCpu("run p\nmlock buf\nstore buf:0..3\nload buf:0..3")))
        {
            var p = result.Of("p").Counters;
            Assert.Equal((4, 0), (p.Minor, p.Major));        // the populate's write faults only
            Assert.Equal(4, p[ResolutionKind.DemandZero]);  // a private writable mapping is populated for writing: no zero page
            Assert.Equal(0, p.SyscallErrors);
        }
    }

    [Fact]
    public void Mlock_of_read_only_anonymous_memory_maps_the_zero_page_and_reads_take_no_fault_after()
    {
        var workload = Make(new MachineSpec { Cpus = 1 }, [Process("p", Anon("ro", Heap, 4 * 4096, VmaFlags.Read))], "run p\nmlock ro\nload ro:0..3");
        foreach (var result in Both(workload))
            Assert.Equal((4, 4), (result.Of("p").Counters.Minor, result.Of("p").Counters[ResolutionKind.ZeroPageMap]));
    }

    [Fact]
    public void Reclaim_passes_locked_pages_over_so_they_never_fault_again_while_the_rest_is_evicted()
    {
        // Three frames: two locked, so the other region's two pages take turns in the third.
        foreach (var result in Both(TwoRegions("run p\nmlock buf\nstore other:0..1\nstore other:0..1\nload buf:0..1\nstore buf:0..1", frames: 3)))
        {
            var p = result.Of("p").Counters;
            Assert.Equal((4, 2), (p.Minor, p.Major));        // buf at mlock, other's first touches; other's second pass from swap
            Assert.Equal(3, p.PagesEvicted);                 // never a page of buf
            Assert.Equal(ProcessFate.Running, result.Of("p").Fate);
        }
    }

    [Fact]
    public void With_every_frame_locked_a_fault_that_needs_one_meets_the_oom_killer()
    {
        foreach (var result in Both(TwoRegions("run p\nmlock buf\nstore other:0\nstore buf:0", frames: 2)))
        {
            var p = result.Of("p");
            Assert.Equal(ProcessFate.KilledByOom, p.Fate);
            Assert.Equal(2, p.Counters.Minor);
            Assert.Equal(0, p.Counters.PagesEvicted);
        }
    }

    [Fact]
    public void Munlock_gives_the_pages_back_to_reclaim()
    {
        foreach (var result in Both(TwoRegions("run p\nmlock buf\nmunlock buf\nstore other:0..1\nload buf:0..1", frames: 3)))
        {
            var p = result.Of("p").Counters;
            Assert.Equal((4, 2), (p.Minor, p.Major));        // LRU evicts buf:0 for other:1, then buf:1 and other:0 for buf:0 and buf:1
            Assert.Equal(3, p.PagesEvicted);
        }
    }

    [Fact]
    public void Madvise_dontneed_or_pageout_of_a_locked_range_fails_with_einval_and_drops_nothing()
    {
        foreach (var result in Both(OneCpu("run p\nmlock buf\nmadvise buf dontneed\nmadvise buf pageout\nload buf:0..3")))
        {
            var p = result.Of("p").Counters;
            Assert.Equal(2, p.SyscallErrors);
            Assert.Equal(4, p.Minor);                        // the mlock's, and none after
        }
    }

    [Fact]
    public void Mlock_of_a_range_with_a_hole_fails_with_enomem_and_populates_nothing()
    {
        foreach (var result in Both(OneCpu("run p\nmlock buf 32K\nload buf:0")))
        {
            var p = result.Of("p").Counters;
            Assert.Equal((1, 1), (p.SyscallErrors, p.Minor));
        }
    }

    [Theory]
    [InlineData("populate")]
    [InlineData("locked")]
    public void Map_populate_and_map_locked_fault_the_mapping_in_before_mmap_returns(string option)
    {
        foreach (var result in Both(OneCpu($"run p\nmmap m 0x30000000 16K rw {option}\nstore m:0..3\nload m:0..3")))
        {
            var p = result.Of("p").Counters;
            Assert.Equal((4, 4), (p.Minor, p[ResolutionKind.DemandZero]));
        }
    }

    [Fact]
    public void A_child_of_a_locking_parent_inherits_no_lock_and_shares_the_written_pages_without_faults()
    {
        var workload = Make(new MachineSpec { Cpus = 1 }, [Process("parent", Anon("buf", Heap, 2 * 4096))],
            "run parent\nmlock buf\nfork child\nrun child\nload buf:0..1\nmadvise buf dontneed\nload buf:0..1");
        foreach (var result in Both(workload))
        {
            var child = result.Of("child").Counters;
            Assert.Equal(0, child.SyscallErrors);            // its VMA is not locked: madvise may drop it
            Assert.Equal(2, child.Minor);                    // the reads after the drop only
        }
    }

    [Fact]
    public void Mremap_grows_in_place_when_the_pages_after_the_region_are_free()
    {
        foreach (var result in Both(TwoRegions("run p\nstore buf:0..1\nmremap buf 16K\nstore buf:0..3\nload buf:0..3")))
        {
            var p = result.Of("p").Counters;
            Assert.Equal((4, 0), (p.Minor, p.SyscallErrors));
            Assert.Equal(4, result.Memory!.Pages.Count(pg => pg.Page.Value >= Heap >> 12 && pg.Page.Value < (Heap >> 12) + 4));
        }
    }

    [Fact]
    public void Mremap_moves_a_region_that_cannot_grow_in_place_with_its_ptes_and_fails_with_enomem_without_maymove()
    {
        // other sits right after buf: buf cannot grow in place, so it moves past other — its written pages go along, no fault.
        var workload = Make(new MachineSpec { Cpus = 1 },
            [Process("p", Anon("buf", Heap, 2 * 4096), Anon("other", Heap + 2 * 4096, 4096))],
            "run p\nstore buf:0..1\nmremap buf 16K\nmremap buf 16K maymove\nload buf:0..1\nstore buf:2..3\nload other:0");
        foreach (var result in Both(workload))
        {
            var p = result.Of("p");
            Assert.Equal(1, p.Counters.SyscallErrors);              // the mremap without maymove: ENOMEM
            Assert.Equal((5, 0), (p.Counters.Minor, p.Counters.Major)); // buf's two first touches, its two new pages, other's read
            var moved = (Heap >> 12) + 3;                             // the lowest free range above: after other
            Assert.Equal(0x1_0000_0000_01UL, result.Memory!.Word(p.Pid, new PageNumber(moved), 0));
            Assert.DoesNotContain(result.Memory!.Pages, pg => pg.Page.Value == Heap >> 12);
        }
    }

    [Fact]
    public void Stores_a_tlb_reports_after_mremap_moved_their_pages_are_held_at_the_pages_they_reached()
    {
        // The stores just before the move are still in the TLB's batch when the move's shootdown asks for it: memory applies
        // them to the moved frames, and the monitor must expect them at the new pages (no write is lost, invariant 5).
        var workload = Make(new MachineSpec { Cpus = 1 },
            [Process("p", Anon("buf", Heap, 8 * 4096), Anon("other", Heap + 8 * 4096, 4096, VmaFlags.Read))],
            "run p\nstore buf:0..7\nmremap buf 64K maymove\nstore buf:8..15\nload buf:0..15");
        foreach (var result in Both(workload))
        {
            var p = result.Of("p");
            Assert.Equal((16, 0), (p.Counters.Minor, p.Counters.Major)); // the moved pages take no fault at their new address
            var moved = (Heap >> 12) + 9;                                 // the lowest free range above: after other
            Assert.Equal(0x1_0000_0000_01UL, result.Memory!.Word(p.Pid, new PageNumber(moved), 0));
        }
    }

    [Fact]
    public void Mremap_shrinks_by_unmapping_the_tail_and_grows_back_with_fresh_pages()
    {
        foreach (var result in Both(OneCpu("run p\nstore buf:0..3\nmremap buf 8K\nmremap buf 16K\nload buf:0..3")))
        {
            var p = result.Of("p").Counters;
            Assert.Equal(6, p.Minor);                        // four first touches, then the tail's zero pages
            Assert.Equal(2, p[ResolutionKind.ZeroPageMap]);
        }
    }

    [Fact]
    public void Mremap_of_a_locked_region_faults_the_part_it_adds_in()
    {
        foreach (var result in Both(TwoRegions("run p\nmlock buf\nmremap buf 16K\nstore buf:0..3")))
            Assert.Equal((4, 0), (result.Of("p").Counters.Minor, result.Of("p").Counters.SyscallErrors));
    }

    [Fact]
    public void Mremap_of_a_range_that_is_not_one_vma_fails_with_efault()
    {
        foreach (var result in Both(OneCpu("run p\nmprotect buf 8K r\nmremap buf 32K maymove\nload buf:0")))
            Assert.Equal((1, 1), (result.Of("p").Counters.SyscallErrors, result.Of("p").Counters.Minor));
    }

    private static Workload SharedReadThenWrite(string region, ReadaheadRules? rules = null) =>
        Make(new MachineSpec { Cpus = 1, Readahead = rules ?? ReadaheadRules.Linux },
        [Process("first", FileMap("data", 0x3000_0000, 2 * 4096, "data", (VmaFlags)Rw | VmaFlags.Shared),
                 FileMap("scratch", 0x4000_0000, 2 * 4096, "scratch", (VmaFlags)Rw | VmaFlags.Shared),
                 Anon("shm", 0x5000_0000, 2 * 4096, (VmaFlags)Rw | VmaFlags.Shared)),
         Process("second", FileMap("data", 0x3000_0000, 2 * 4096, "data", (VmaFlags)Rw | VmaFlags.Shared),
                 FileMap("scratch", 0x4000_0000, 2 * 4096, "scratch", (VmaFlags)Rw | VmaFlags.Shared))],
        $"run first\nload {region}:0..1\nstore {region}:0..1\nrun second\nload {region}:0..1\nstore {region}:0..1")
        .WithFiles(new FileSpec("data", 2 * 4096), new FileSpec("scratch", 2 * 4096, Tmpfs: true));

    [Fact]
    public void A_read_then_write_of_a_cached_page_of_a_shared_ext4_mapping_is_two_minor_faults_the_second_a_write_notify()
    {
        foreach (var result in Both(SharedReadThenWrite("data")))
        {
            // Page 0's major fault reads both pages ahead and maps page 1 around it, clean; each store is a page_mkwrite.
            var first = result.Of("first").Counters;
            Assert.Equal((1, 2), (first.Major, first.Minor));
            var second = result.Of("second").Counters;           // the pages are cached now: dirty there, clean in its own PTEs
            Assert.Equal((0, 3), (second.Major, second.Minor));
            Assert.Equal((1, 2), (second[ResolutionKind.PageCacheHit], second[ResolutionKind.CowReuse]));
        }
        foreach (var result in Both(SharedReadThenWrite("data", ReadaheadRules.Off))) // a fault per page: two each
            Assert.Equal((2, 2), (result.Of("second").Counters[ResolutionKind.PageCacheHit], result.Of("second").Counters[ResolutionKind.CowReuse]));
    }

    [Fact]
    public void A_read_then_write_of_a_tmpfs_page_or_shared_anonymous_memory_is_one_fault_shmem_takes_no_write_notify()
    {
        foreach (var result in Both(SharedReadThenWrite("scratch")))
        {
            var first = result.Of("first").Counters;           // a new tmpfs file is holes: each page zeroed in its page cache, no disk read
            Assert.Equal((0, 2, 2, 0L), (first.Major, first.Minor, first[ResolutionKind.DemandZero], first.DiskReads));
            var second = result.Of("second").Counters;
            Assert.Equal((0, 1), (second.Major, second.Minor)); // page 1 mapped around page 0, writable: shmem has no write-notify
            Assert.Equal(0, second[ResolutionKind.CowReuse]);
        }
        var shm = Make(new MachineSpec { Cpus = 1 }, [Process("p", Anon("shm", 0x5000_0000, 2 * 4096, (VmaFlags)Rw | VmaFlags.Shared))],
            "run p\nload shm:0..1\nstore shm:0..1\nfork child\nrun child\nload shm:0..1\nstore shm:0..1");
        foreach (var result in Both(shm))
        {
            Assert.Equal((2, 2), (result.Of("p").Counters.Minor, result.Of("p").Counters[ResolutionKind.DemandZero]));
            // As Linux: shmem maps around (its map_pages is filemap_map_pages), so the child's read of page 0 maps page 1 too.
            Assert.Equal((1, 1), (result.Of("child").Counters.Minor, result.Of("child").Counters[ResolutionKind.PageCacheHit]));
        }
    }
}

using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Replacement;
using Faultsim.Model.Storage;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;
using static Faultsim.Tests.Model.FaultResolutionTests;
using static Faultsim.Tests.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>Memory under a frame limit: eviction to swap and back, the swap cache, file writeback, and the OOM killer.</summary>
public sealed class ReclaimTests
{
    private const ulong Data = 0x2000_0000;
    private static readonly FileSpec DataFile = new("data", 4 * 4096);

    private static MachineSpec Frames(int frames, ReplacementPolicyKind policy = ReplacementPolicyKind.Lru) =>
        new() { Cpus = 1, Frames = frames, Policy = policy };

    private static ProcessSpec P(VmaFlags fileFlags = VmaFlags.Read) =>
        Process("p", Anon("buf", Heap, 0x10_000), FileMap("data", Data, 4 * 4096, "data", fileFlags));

    [Fact]
    public void Eviction_under_a_frame_limit_writes_anonymous_pages_to_swap_with_their_content()
    {
        var result = Make(Frames(2), [P()], "run p\nstore buf:0..3").WithFiles(DataFile).Run();
        var p = result.Of("p").Counters;
        Assert.Equal(2, p.PagesEvicted);
        Assert.Equal(2, p.DiskWrites);
        Assert.Equal(4, result.Memory!.Pages.Length);     // two resident, two in swap
        for (ulong page = 0; page < 4; page++)
            Assert.Equal(Store(0, page + 1), Word(result, "p", page));
    }

    [Fact]
    public void Evicted_anonymous_pages_come_back_as_major_faults_with_their_content_intact()
    {
        var result = Make(Frames(2), [P()], "run p\nstore buf:0..3\nload buf:0..3").WithFiles(DataFile).Run();
        var p = result.Of("p").Counters;
        Assert.Equal(4, p[ResolutionKind.DemandZero]);
        Assert.Equal(4, p.Major);       // LRU with two frames: every re-read page was evicted
        Assert.Equal(4, p.DiskReads);
        for (ulong page = 0; page < 4; page++)
            Assert.Equal(Store(0, page + 1), Word(result, "p", page));
    }

    [Fact]
    public void A_page_shared_after_fork_is_swapped_out_of_both_processes_once_and_read_back_once()
    {
        var result = Make(Frames(2, ReplacementPolicyKind.Fifo), [P()],
            "run p\nstore buf:0\nfork c\nstore buf:1..2\nrun c\nload buf:0\nrun p\nload buf:0").WithFiles(DataFile).Run();
        var p = result.Of("p").Counters;
        var c = result.Of("c").Counters;
        Assert.Equal(1, p.PagesEvicted);          // the shared page, from both page tables at once
        Assert.Equal(1, p.DiskWrites);            // to one swap slot
        Assert.Equal(1, c.Major);                 // the child's PTE named the slot: a swap-in
        Assert.Equal(1, c.DiskReads);
        Assert.Equal(1, p[ResolutionKind.PageCacheHit]);   // the parent's too, found in the swap cache
        Assert.Equal(0, p.Major);
        Assert.Equal(Store(0, 1), Word(result, "p", 0));
        Assert.Equal(Store(0, 1), Word(result, "c", 0));
    }

    [Fact]
    public void A_swapped_in_page_shared_by_two_processes_is_copied_on_the_first_write()
    {
        var result = Make(Frames(3, ReplacementPolicyKind.Fifo), [P()],
            "run p\nstore buf:0\nfork c\nstore buf:1..3\nrun c\nload buf:0\nrun p\nload buf:0\nstore buf:0").WithFiles(DataFile).Run();
        Assert.Equal(1, result.Of("p").Counters[ResolutionKind.CowBreak]);
        Assert.Equal(Store(0, 1), Word(result, "c", 0));
        Assert.Equal(Store(0, 5), Word(result, "p", 0));
    }

    [Fact]
    public void Clean_file_pages_are_dropped_without_a_write_and_read_again_as_major_faults()
    {
        var result = Make(Frames(1), [P()], "run p\nload data:0\nload data:1\nload data:0").WithFiles(DataFile).Run();
        var p = result.Of("p").Counters;
        Assert.Equal(3, p.Major);
        Assert.Equal(3, p.DiskReads);
        Assert.Equal(2, p.PagesEvicted);
        Assert.Equal(0, p.DiskWrites);
    }

    [Fact]
    public void A_dirty_shared_file_page_is_written_back_on_eviction_and_read_back_with_the_write()
    {
        var shared = VmaFlags.Read | VmaFlags.Write | VmaFlags.Shared;
        var result = Make(Frames(1), [P(shared)], "run p\nstore data:0\nstore data:1\nload data:0").WithFiles(DataFile).Run();
        var p = result.Of("p").Counters;
        Assert.Equal(3, p.Major);
        Assert.Equal(2, p.DiskWrites);    // page 0 when page 1 came in, page 1 when page 0 came back
        Assert.Equal(Store(0, 1), Word(result, "p", 0, word: 0, region: Data));
        Assert.Equal(FileStore.InitialWord(new FilePage(new FileId(0), 0), 1), Word(result, "p", 0, word: 1, region: Data));
    }

    [Fact]
    public void With_one_frame_a_write_to_a_private_file_mapping_needing_two_is_killed_by_the_oom_killer()
    {
        var result = Make(Frames(1), [P(VmaFlags.Read | VmaFlags.Write)], "run p\nstore data:0\nstore buf:0").WithFiles(DataFile).Run();
        var p = result.Of("p");
        Assert.Equal(ProcessFate.KilledByOom, p.Fate);
        Assert.Equal(1, p.Counters.DiskReads);     // the file page came in; its private copy could not
        Assert.Equal(0, p.Counters.Total);
        Assert.Equal(0, p.Counters.Accesses);
        Assert.Null(result.Panic);
    }

    [Fact]
    public void The_oom_kill_of_one_process_lets_the_others_go_on()
    {
        var workload = Make(new MachineSpec { Cpus = 2, Frames = 1 }, [P(VmaFlags.Read | VmaFlags.Write), Process("q", Anon("other", 0x3000_0000, 0x4000))],
            "run p\nstore data:0\nbarrier done", "barrier done\nrun q\nstore other:0..3").WithFiles(DataFile);
        var result = workload.Run();
        Assert.Equal(ProcessFate.KilledByOom, result.Of("p").Fate);
        Assert.Equal(ProcessFate.Running, result.Of("q").Fate);
        Assert.Equal(4, result.Of("q").Counters.Minor);
        Assert.Equal(4, result.Of("q").Counters.PagesEvicted);   // the file page p left behind, then q's own
    }

    [Fact]
    public void With_one_frame_a_cow_break_needing_two_is_killed_by_the_oom_killer_instead_of_refaulting_forever()
    {
        var result = Make(Frames(1), [P()], "run p\nstore buf:0\nfork c\nstore buf:0\nrun c\nload buf:0").WithFiles(DataFile).Run();
        Assert.Equal(ProcessFate.KilledByOom, result.Of("p").Fate);
        Assert.Equal(ProcessFate.Running, result.Of("c").Fate);
        Assert.Equal(Store(0, 1), Word(result, "c", 0));
    }

    [Fact]
    public void A_cow_break_under_memory_pressure_evicts_another_page_not_the_one_it_copies()
    {
        var result = Make(Frames(2), [P()], "run p\nstore buf:0..1\nfork c\nstore buf:0").WithFiles(DataFile).Run();
        var p = result.Of("p").Counters;
        Assert.Equal(1, p[ResolutionKind.CowBreak]);
        Assert.Equal(0, p.Major);              // page 0 never left memory while it was being copied
        Assert.Equal(1, p.PagesEvicted);       // page 1 made room for the copy
        Assert.Equal(Store(0, 3), Word(result, "p", 0));
        Assert.Equal(Store(0, 1), Word(result, "c", 0));
    }
}

using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Memory;
using Faultsim.Model.Storage;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;
using static Faultsim.Tests.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>Every row of the resolution table, reached from a workload on the reference machine and counted as getrusage would.</summary>
public sealed class FaultResolutionTests
{
    private const ulong Data = 0x2000_0000, StackTop = 0x7fff_0000_0000, StackSize = 0x10_000;
    private const VmaFlags Rw = VmaFlags.Read | VmaFlags.Write;
    private static readonly FileSpec DataFile = new("data", 2 * 4096);

    private static MachineSpec Machine(int cpus = 1) => new() { Cpus = cpus };

    private static ProcessSpec WithHeap(string name) => Process(name, Anon("buf", Heap, 0x10_000));

    private static ProcessSpec WithFile(string name, VmaFlags flags = VmaFlags.Read) =>
        Process(name, Anon("buf", Heap, 0x10_000), FileMap("data", Data, 4 * 4096, "data", flags));

    private static Counters C(RunResult result, string process) => result.Of(process).Counters;

    /// <summary>
    /// Word <paramref name="word"/> of page <paramref name="page"/> of the heap (or <paramref name="region"/>) as the process would
    /// read it at the end of the run: its own page if it has one, else for the data file mapping the file's content, else zero.
    /// </summary>
    internal static ulong Word(RunResult result, string process, ulong page, int word = 0, ulong region = Heap)
    {
        var pid = result.Of(process).Pid;
        var number = new VirtualAddress(region).Page + page;
        if (result.Memory!.Pages.SingleOrDefault(p => p.Pid == pid && p.Page == number) is { } own)
            return own.Words[word];
        if (region == Data)
            return result.Memory.Files.SingleOrDefault(f => f.File == "data" && f.Index == page)?.Words[word] ?? FileWord(page, word);
        return 0;
    }

    private static ulong FileWord(ulong page, int word = 0) => FileStore.InitialWord(new FilePage(new FileId(0), page), word);

    /// <summary>The value of a CPU's n-th store without an explicit value.</summary>
    internal static ulong Store(int cpu, ulong n) => ((ulong)(cpu + 1) << 40) | n;

    [Fact]
    public void A_first_write_to_anonymous_memory_is_demand_zero_and_minor()
    {
        var result = Make(Machine(), [WithHeap("p")], "run p\nstore buf:0..2").Run();
        var p = C(result, "p");
        Assert.Equal(3, p[ResolutionKind.DemandZero]);
        Assert.Equal(3, p.Minor);
        Assert.Equal(0, p.Major);
        Assert.Equal(3, p.PagesZeroed);
        Assert.Equal(Store(0, 2), Word(result, "p", 1));
    }

    [Fact]
    public void A_first_read_of_anonymous_memory_maps_the_zero_page_without_zeroing_a_frame()
    {
        var result = Make(Machine(), [WithHeap("p")], "run p\nload buf:0..2").Run();
        var p = C(result, "p");
        Assert.Equal(3, p[ResolutionKind.ZeroPageMap]);
        Assert.Equal(0, p[ResolutionKind.DemandZero]);
        Assert.Equal(3, p.Minor);
        Assert.Equal(0, p.PagesZeroed);
        Assert.Equal(0UL, Word(result, "p", 2));
    }

    [Fact]
    public void A_second_process_mapping_a_file_page_already_cached_takes_a_page_cache_hit_without_a_disk_read()
    {
        var result = Make(Machine(), [WithFile("p"), WithFile("q")], "run p\nload data:0\nrun q\nload data:0")
            .WithFiles(DataFile).Run();
        Assert.Equal(1, C(result, "p").Major);
        Assert.Equal(1, C(result, "p").DiskReads);
        var q = C(result, "q");
        Assert.Equal(1, q[ResolutionKind.PageCacheHit]);
        Assert.Equal(1, q.Minor);
        Assert.Equal(0, q.Major);
        Assert.Equal(0, q.DiskReads);
        Assert.Equal(FileWord(0), Word(result, "q", 0, region: Data));
    }

    [Fact]
    public void A_swapped_page_still_in_the_swap_cache_is_a_page_cache_hit_not_a_disk_read()
    {
        // Two frames, FIFO: the page shared after fork is evicted from both processes; the parent
        // swaps it in (major) and the child then finds it in the swap cache.
        var machine = Machine() with { Frames = 2, Policy = Faultsim.Model.Replacement.ReplacementPolicyKind.Fifo };
        var result = Make(machine, [WithHeap("p")],
            "run p\nstore buf:0\nfork c\nstore buf:1..2\nload buf:0\nrun c\nload buf:0").Run();
        var p = C(result, "p");
        var c = C(result, "c");
        Assert.Equal(1, p.Major);
        Assert.Equal(1, p.DiskReads);
        Assert.Equal(1, c[ResolutionKind.PageCacheHit]);
        Assert.Equal(0, c.Major);
        Assert.Equal(0, c.DiskReads);
        Assert.Equal(Store(0, 1), Word(result, "c", 0));
        Assert.Equal(Store(0, 1), Word(result, "p", 0));
    }

    [Fact]
    public void An_uncached_file_page_is_a_major_fault_with_one_disk_read_each()
    {
        // Without readahead (with it, page 0's read brings page 1 along: LinuxCountsTests).
        var result = Make(Machine() with { Readahead = ReadaheadRules.Off }, [WithFile("p")], "run p\nload data:0..1\nload data:0..1").WithFiles(DataFile).Run();
        var p = C(result, "p");
        Assert.Equal(2, p[ResolutionKind.Major]);
        Assert.Equal(2, p.Major);
        Assert.Equal(0, p.Minor);
        Assert.Equal(2, p.DiskReads);
        Assert.Equal(FileWord(1, 0), Word(result, "p", 1, word: 0, region: Data));
        Assert.Equal(FileWord(1, 3), Word(result, "p", 1, word: 3, region: Data));
    }

    [Fact]
    public void A_swapped_out_page_is_a_major_fault_that_reads_swap()
    {
        var result = Make(Machine() with { Frames = 1 }, [WithHeap("p")], "run p\nstore buf:0\nstore buf:1\nload buf:0").Run();
        var p = C(result, "p");
        Assert.Equal(2, p[ResolutionKind.DemandZero]);
        Assert.Equal(1, p[ResolutionKind.Major]);
        Assert.Equal(1, p.Major);
        Assert.Equal(1, p.DiskReads);
        Assert.Equal(Store(0, 1), Word(result, "p", 0));
        Assert.Equal(Store(0, 2), Word(result, "p", 1));
    }

    [Fact]
    public void A_child_writing_a_page_it_shares_after_fork_breaks_cow_and_the_parent_keeps_the_old_content()
    {
        var result = Make(Machine(), [WithHeap("p")], "run p\nstore buf:0\nfork c\nrun c\nstore buf:0").Run();
        var c = C(result, "c");
        Assert.Equal(1, c[ResolutionKind.CowBreak]);
        Assert.Equal(1, c.Cow);
        Assert.Equal(1, c.PagesCopied);
        Assert.Equal(1, c.Minor);
        Assert.Equal(Store(0, 1), Word(result, "p", 0));
        Assert.Equal(Store(0, 2), Word(result, "c", 0));
    }

    [Fact]
    public void A_write_to_a_cow_page_nobody_else_maps_any_more_reuses_it_in_place()
    {
        var result = Make(Machine(), [WithHeap("p")], "run p\nstore buf:0\nfork c\nrun c\nexit\nrun p\nstore buf:0").Run();
        var p = C(result, "p");
        Assert.Equal(1, p[ResolutionKind.CowReuse]);
        Assert.Equal(0, p[ResolutionKind.CowBreak]);
        Assert.Equal(0, p.PagesCopied);
        Assert.Equal(2, p.Minor);
        Assert.Equal(ProcessFate.Exited, result.Of("c").Fate);
        Assert.Equal(Store(0, 2), Word(result, "p", 0));
    }

    [Fact]
    public void A_write_to_a_private_file_mapping_copies_the_file_page_into_an_anonymous_one()
    {
        var result = Make(Machine(), [WithFile("p", Rw)], "run p\nstore data:0\nload data:1\nstore data:1")
            .WithFiles(DataFile).Run();
        var p = C(result, "p");
        Assert.Equal(1, p.Major);            // both pages read from the file, in page 0's one request (readahead)
        Assert.Equal(2, p.Minor);            // page 1 from the page cache, then its write
        Assert.Equal(1, p.DiskReads);
        Assert.Equal(1, p[ResolutionKind.CowBreak]);   // page 1 was mapped read-only from the page cache first
        Assert.Equal(2, p.PagesCopied);
        Assert.Equal(Store(0, 1), Word(result, "p", 0, region: Data));
        Assert.Equal(FileWord(0, 1), Word(result, "p", 0, word: 1, region: Data));   // the rest is the file's
    }

    [Fact]
    public void A_write_just_below_the_stack_near_the_stack_pointer_grows_the_stack()
    {
        var stack = Anon("stack", StackTop - StackSize, StackSize, Rw | VmaFlags.GrowsDown);
        var result = Make(Machine(), [Process("p", stack)], "run p\nsp stack-4K\nstore stack-4K\nstore stack-4K").Run();
        var p = C(result, "p");
        Assert.Equal(1, p[ResolutionKind.StackGrowth]);
        Assert.Equal(1, p.Minor);
        Assert.Equal(1, p.PagesZeroed);
        Assert.Equal(ProcessFate.Running, result.Of("p").Fate);
        Assert.Equal(Store(0, 2), Word(result, "p", 0, region: StackTop - StackSize - 4096));
    }

    [Fact]
    public void With_the_old_x86_window_an_access_far_below_the_stack_pointer_is_sigsegv_not_stack_growth()
    {
        var stack = Anon("stack", StackTop - StackSize, StackSize, Rw | VmaFlags.GrowsDown);
        var machine = Machine() with { Stack = StackRules.Linux with { SpWindow = StackRules.ClassicSpWindow } };
        var result = Make(machine, [Process("p", stack)], "run p\nstore stack-512K").Run();
        Assert.Equal(0, C(result, "p")[ResolutionKind.StackGrowth]);
        Assert.Equal(1, C(result, "p").Segv);
        Assert.Equal(ProcessFate.KilledBySigSegv, result.Of("p").Fate);
    }

    [Fact]
    public void By_default_the_same_access_grows_the_stack_down_to_it()
    {
        var stack = Anon("stack", StackTop - StackSize, StackSize, Rw | VmaFlags.GrowsDown);
        var result = Make(Machine(), [Process("p", stack)], "run p\nstore stack-512K").Run();
        Assert.Equal((1, 1), (C(result, "p")[ResolutionKind.StackGrowth], C(result, "p").Minor));
        Assert.Equal(ProcessFate.Running, result.Of("p").Fate);
    }

    [Fact]
    public void A_thread_with_a_stale_read_only_tlb_entry_after_protection_goes_down_and_up_takes_a_spurious_fault()
    {
        // cpu0 caches a read-only translation while buf is read-only; buf becomes writable again, and
        // mprotect upgrades the PTE at once (the page is dirty and the process's alone) with no shootdown:
        // cpu1's write goes straight through, and cpu0's write then faults on its stale entry.
        var result = Make(Machine(2), [WithHeap("p")],
            "run p\nstore buf:0\nmprotect buf r\nload buf:0\nmprotect buf rw\nbarrier up\nbarrier written\nstore buf:0",
            "run p\nbarrier up\nstore buf:0\nbarrier written").Run();
        var p = C(result, "p");
        Assert.Equal(0, p[ResolutionKind.CowReuse]);
        Assert.Equal(1, p[ResolutionKind.Spurious]);
        Assert.Equal(1, p.Spurious);
        Assert.Equal(2, p.Minor);            // demand-zero, spurious
        Assert.Equal(Store(0, 2), Word(result, "p", 0, word: 0));
        Assert.Equal(Store(1, 1), Word(result, "p", 0, word: 1));
    }

    [Fact]
    public void A_cow_reuse_on_one_cpu_leaves_another_cpus_stale_read_only_entry_which_faults_spuriously()
    {
        var result = Make(Machine(2), [WithHeap("p")],
            "run p\nstore buf:0\nfork c\nload buf:0\nrun c\nexit\nrun p\nbarrier gone\nbarrier reused\nstore buf:0",
            "run p\nbarrier gone\nstore buf:0\nbarrier reused").Run();
        var p = C(result, "p");
        Assert.Equal(1, p[ResolutionKind.CowReuse]);
        Assert.Equal(0, p[ResolutionKind.CowBreak]);
        Assert.Equal(1, p[ResolutionKind.Spurious]);
        Assert.Equal(Store(0, 2), Word(result, "p", 0, word: 0));
    }

    [Fact]
    public void A_segfaulting_process_dies_its_other_threads_skip_their_work_and_other_processes_go_on()
    {
        var result = Make(Machine(3), [WithHeap("p"), WithHeap("q")],
            "run p\nstore 0x10\nstore buf:0..3\nbarrier after",
            "run p\nbarrier after\nstore buf:0..3",
            "run q\nstore buf:0..3").Run();
        var p = result.Of("p");
        Assert.Equal(ProcessFate.KilledBySigSegv, p.Fate);
        Assert.Equal(1, p.Counters.Segv);
        Assert.Equal(0, p.Counters.Total);       // a signal is not a counted fault
        Assert.Equal(0, p.Counters.Accesses);    // nothing after the fatal access ran
        var q = result.Of("q");
        Assert.Equal(ProcessFate.Running, q.Fate);
        Assert.Equal(4, q.Counters.Minor);
        Assert.Null(result.Panic);
        Assert.DoesNotContain(result.Memory!.Pages, page => page.Pid == p.Pid);
    }

    [Theory]
    [InlineData("store text:0")]      // write to a read-only region
    [InlineData("fetch buf:0")]       // instruction fetch from a no-exec region
    public void An_access_the_vma_forbids_is_sigsegv(string access)
    {
        var process = Process("p", Anon("buf", Heap, 0x1000), Anon("text", Data, 0x1000, VmaFlags.Read | VmaFlags.Exec));
        var result = Make(Machine(), [process], $"run p\nload text:0\n{access}").Run();
        Assert.Equal(ProcessFate.KilledBySigSegv, result.Of("p").Fate);
        Assert.Equal(1, result.Of("p").Counters.Segv);
    }

    [Fact]
    public void A_file_page_beyond_the_end_of_the_file_is_sigbus()
    {
        var result = Make(Machine(), [WithFile("p")], "run p\nload data:1\nload data:2\nstore buf:0").WithFiles(DataFile with { Size = 4097 }).Run();
        var p = result.Of("p");
        Assert.Equal(ProcessFate.KilledBySigBus, p.Fate);
        Assert.Equal(1, p.Counters.Bus);
        Assert.Equal(1, p.Counters.Major);       // page 1 holds the file's last byte
        Assert.Equal(0, p.Counters[ResolutionKind.DemandZero]);
    }

    [Fact]
    public void A_read_of_a_bad_disk_page_is_sigbus_and_other_pages_read_fine()
    {
        var machine = Machine(2) with { Disk = new DiskFailures(0, [("data", 1)]) };
        var result = Make(machine, [WithFile("p"), WithFile("q")], "run p\nload data:0\nload data:1", "run q\nload data:0")
            .WithFiles(DataFile).Run();
        var p = result.Of("p");
        Assert.Equal(ProcessFate.KilledBySigBus, p.Fate);
        Assert.Equal(1, p.Counters.Bus);
        Assert.Equal(2, p.Counters.DiskReads);   // the failed read was issued
        Assert.Equal(ProcessFate.Running, result.Of("q").Fate);
    }

    [Fact]
    public void With_a_read_error_rate_of_one_every_disk_read_fails()
    {
        var machine = Machine() with { Disk = new DiskFailures(1, []) };
        var result = Make(machine, [WithFile("p")], "run p\nstore buf:0\nload data:0").WithFiles(DataFile).Run();
        Assert.Equal(ProcessFate.KilledBySigBus, result.Of("p").Fate);
        Assert.Equal(1, result.Of("p").Counters[ResolutionKind.DemandZero]);   // no disk: unaffected
    }

    [Fact]
    public void A_disk_error_while_the_kernel_copies_from_user_memory_is_efault_and_the_process_goes_on()
    {
        var machine = Machine() with { Disk = new DiskFailures(0, [("data", 0)]) };
        var result = Make(machine, [WithFile("p")], "run p\nsys-write data:0\nstore buf:0").WithFiles(DataFile).Run();
        var p = result.Of("p");
        Assert.Equal(ProcessFate.Running, p.Fate);
        Assert.Equal(1, p.Counters.Efault);
        Assert.Equal(0, p.Counters.Bus);
        Assert.Equal(1, p.Counters[ResolutionKind.DemandZero]);
    }

    [Fact]
    public void A_read_system_call_into_a_bad_pointer_is_efault_and_the_process_goes_on()
    {
        var result = Make(Machine(), [WithHeap("p")], "run p\nsys-read 0x10\nsys-read buf:0\nstore buf:1").Run();
        var p = result.Of("p");
        Assert.Equal(ProcessFate.Running, p.Fate);
        Assert.Equal(1, p.Counters.Efault);
        Assert.Equal(0, p.Counters.Segv);
        Assert.Equal(2, p.Counters[ResolutionKind.DemandZero]);   // the good sys-read and the store
        Assert.Equal(2, p.Counters.Minor);
        Assert.Null(result.Panic);
    }

    [Fact]
    public void A_kernel_read_of_an_unmapped_address_oopses_and_the_run_stops_there()
    {
        var result = Make(Machine(2), [WithHeap("p"), WithHeap("q")],
            "run p\nkernel-read 0x10\nstore buf:0",
            "run q\nstore buf:0..63").Run();
        Assert.NotNull(result.Panic);
        Assert.Contains("kernel oops on cpu0 in p", result.Panic);
        Assert.Equal(1, result.Of("p").Counters.Oops);
        Assert.Equal(0, result.Of("p").Counters.Accesses);
        Assert.True(result.Of("q").Counters.Accesses < 64, "the machine ran on after its panic");
    }

    [Fact]
    public void Without_smap_a_kernel_access_to_a_present_page_does_not_fault()
    {
        var result = Make(Machine() with { Smap = false }, [WithHeap("p")], "run p\nstore buf:0\nkernel-read buf:0\nkernel-write buf:0").Run();
        Assert.Null(result.Panic);
        Assert.Equal(1, result.Of("p").Counters.Total);
    }

    [Fact]
    public void With_smap_a_kernel_access_to_a_present_user_page_outside_a_user_copy_oopses()
    {
        var result = Make(Machine(), [WithHeap("p")], "run p\nstore buf:0\nkernel-read buf:0\nstore buf:1").Run();
        Assert.Contains("kernel oops on cpu0 in p: kernel-mode fault at user address 0x10000000 outside a user-copy region", result.Panic);
        Assert.Equal((1, 1), (result.Of("p").Counters.Minor, result.Of("p").Counters.Oops));
        Assert.Equal(1, result.Of("p").Counters.Accesses);   // the run stopped at the oops
    }
}

using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Shootdowns;
using Faultsim.Model.Workloads;
using static Faultsim.Tests.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>TLB shootdowns: IPIs go to the other CPUs of the address space's CPU mask, and stale entries really go.</summary>
public sealed class ShootdownTests
{
    private static RunResult Run(int cpus, params string[] scripts) => Run(ShootdownMode.Batched, cpus, scripts);

    private static RunResult Run(ShootdownMode mode, int cpus, params string[] scripts) =>
        Workload(mode, cpus, scripts).Run();

    /// <summary>Processes p and q, each with a 64 KiB anonymous buf, on a machine of <paramref name="cpus"/> CPUs.</summary>
    public static Workload Workload(ShootdownMode mode, int cpus, params string[] scripts) =>
        Make(new MachineSpec { Cpus = cpus, Shootdown = mode }, [Process("p", Anon("buf", Heap, 0x10_000)), Process("q", Anon("buf", Heap, 0x10_000))], scripts);

    /// <summary>
    /// What each mode counts for the same calls, with a second thread of p on cpu1: eager sends a round per page, batched
    /// one per call, lazy none. (scripts, then shootdowns and IPIs in eager, batched and lazy mode.)
    /// </summary>
    public static TheoryData<string, string, int, int, int> ModeCases => new()
    {
        { "run p\nstore buf:0..3\nbarrier b\nmunmap buf", "run p\nbarrier b", 4, 1, 0 },
        { "run p\nstore buf:0..3\nbarrier b\nmprotect buf r", "run p\nbarrier b", 4, 1, 0 },
        { "run p\nstore buf:0..1\nbarrier b\nfork c\nstore buf:0", "run p\nbarrier b", 3, 2, 0 }, // fork's two pages, the break's one
        { "run p\nstore buf:0..3\nbarrier b\nexit", "run p\nbarrier b", 1, 1, 0 },                 // exit flushes everything at once
    };

    [Theory]
    [MemberData(nameof(ModeCases))]
    public void Each_shootdown_mode_counts_its_rounds_and_ipis(string cpu0, string cpu1, int eager, int batched, int lazy)
    {
        foreach (var (mode, expected) in new[] { (ShootdownMode.Eager, eager), (ShootdownMode.Batched, batched), (ShootdownMode.Lazy, lazy) })
        {
            var p = Run(mode, 2, cpu0, cpu1).Of("p").Counters;
            Assert.True((expected, expected) == (p.Shootdowns, p.Ipis), $"{mode}: {p.Shootdowns} shootdowns, {p.Ipis} IPIs; expected {expected} of each");
        }
    }

    [Theory]
    [InlineData("munmap buf")]
    [InlineData("mprotect buf r")]
    [InlineData("madvise buf dontneed")]
    public void A_change_of_present_pages_with_a_second_thread_on_another_cpu_sends_it_one_ipi(string change)
    {
        // cpu1 runs p too, so it is in p's CPU mask; cpu2 runs only q and gets no IPI.
        var result = Run(3,
            $"run p\nstore buf:0..3\nbarrier b\n{change}",
            "run p\nbarrier b",
            "run q\nstore buf:0..3\nbarrier b");
        var p = result.Of("p").Counters;
        Assert.Equal(1, p.Shootdowns);
        Assert.Equal(1, p.Ipis);
        Assert.Equal(0, result.Of("q").Counters.Ipis);
        Assert.Equal(0, result.Of("q").Counters.Shootdowns);
    }

    [Theory]
    [InlineData("munmap buf")]
    [InlineData("mprotect buf r")]
    [InlineData("madvise buf dontneed")]
    public void The_same_change_on_a_single_cpu_sends_no_ipi(string change)
    {
        var result = Run(1, $"run p\nstore buf:0..3\n{change}");
        Assert.Equal(0, result.Of("p").Counters.Ipis);
        Assert.Equal(0, result.Of("p").Counters.Shootdowns);
    }

    [Fact]
    public void Threads_on_three_other_cpus_get_three_ipis_per_shootdown()
    {
        var result = Run(4, "run p\nstore buf:0\nbarrier b\nmunmap buf", "run p\nbarrier b", "run p\nbarrier b", "run p\nbarrier b");
        Assert.Equal(1, result.Of("p").Counters.Shootdowns);
        Assert.Equal(3, result.Of("p").Counters.Ipis);
    }

    [Fact]
    public void Changes_that_only_add_permissions_or_touch_no_present_page_need_no_shootdown()
    {
        var result = Run(2, "run p\nstore buf:0\nbarrier b\nmprotect buf r\nmprotect buf rw\nmunmap buf+4K 4K\nmadvise buf+8K 4K dontneed", "run p\nbarrier b");
        Assert.Equal(1, result.Of("p").Counters.Shootdowns);   // only the first mprotect
        Assert.Equal(1, result.Of("p").Counters.Ipis);
    }

    [Fact]
    public void After_mprotect_removes_write_the_other_cpu_cannot_write_through_its_cached_translation()
    {
        // cpu1 caches a writable translation; after the shootdown its store must fault (and die: buf is read-only).
        var result = Run(2,
            "run p\nstore buf:0\nbarrier stored\nbarrier loaded\nmprotect buf r\nbarrier protected",
            "run p\nbarrier stored\nload buf:0\nbarrier loaded\nbarrier protected\nstore buf:0");
        var p = result.Of("p");
        Assert.Equal(2, p.Counters.Ipis);       // the mprotect's, then the exit's after the SIGSEGV on cpu1
        Assert.Equal(ProcessFate.KilledBySigSegv, p.Fate);
        Assert.Equal(0, p.Counters.TlbHits);    // cpu1's writable entry was gone: its store missed, walked and faulted
    }

    [Fact]
    public void After_munmap_the_other_cpu_faults_instead_of_using_its_cached_translation()
    {
        var result = Run(2,
            "run p\nstore buf:0\nbarrier stored\nbarrier loaded\nmunmap buf\nbarrier unmapped",
            "run p\nbarrier stored\nload buf:0\nbarrier loaded\nbarrier unmapped\nload buf:0");
        Assert.Equal(ProcessFate.KilledBySigSegv, result.Of("p").Fate);
        Assert.Equal(1, result.Of("p").Counters.Segv);
    }

    [Fact]
    public void Fork_and_a_cow_break_each_shoot_down_the_parents_other_cpu()
    {
        var result = Run(2, "run p\nstore buf:0\nbarrier b\nfork c\nstore buf:0", "run p\nbarrier b");
        var p = result.Of("p").Counters;
        Assert.Equal(1, p[ResolutionKind.CowBreak]);
        Assert.Equal(2, p.Shootdowns);   // fork write-protects buf:0; the break replaces its frame
        Assert.Equal(2, p.Ipis);
    }

    [Fact]
    public void Exit_of_a_process_running_on_two_cpus_shoots_down_the_other_one()
    {
        var result = Run(2, "run p\nstore buf:0\nbarrier b\nexit", "run p\nbarrier b");
        Assert.Equal(ProcessFate.Exited, result.Of("p").Fate);
        Assert.Equal(1, result.Of("p").Counters.Ipis);
    }

    [Fact]
    public void A_cpu_that_once_ran_the_process_stays_in_its_mask_after_switching_away()
    {
        var result = Run(2, "run p\nstore buf:0\nbarrier b\nbarrier switched\nmunmap buf", "run p\nbarrier b\nrun q\nbarrier switched");
        Assert.Equal(1, result.Of("p").Counters.Ipis);
    }
}

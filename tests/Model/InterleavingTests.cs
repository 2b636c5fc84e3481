using System.Collections.Immutable;
using System.Text;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;
using static Faultsim.Tests.Model.FaultResolutionTests;
using static Faultsim.Tests.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>How the CPUs' scripts interleave: barriers, waiting for a fork, deadlocks, seeds, and the final memory.</summary>
public sealed class InterleavingTests
{
    private static readonly ImmutableArray<ProcessSpec> P = [Process("p", Anon("buf", Heap, 0x10_000))];

    private static Workload On(Interleaving interleaving, params string[] scripts) =>
        Make(new MachineSpec { Cpus = scripts.Length, Interleaving = interleaving }, P, scripts);

    public static TheoryData<Interleaving> All => [Interleaving.RoundRobin, Interleaving.Random, Interleaving.Sequential];

    /// <summary>Every count of every process, and the memory hash, as one comparable text.</summary>
    private static string Summary(RunResult result)
    {
        var text = new StringBuilder();
        foreach (var p in result.Processes)
        {
            var c = p.Counters;
            text.Append($"{p.Pid} {p.Name} {p.Fate}: minor {c.Minor} major {c.Major} accesses {c.Accesses} zeroed {c.PagesZeroed} " +
                        $"copied {c.PagesCopied} evicted {c.PagesEvicted} reads {c.DiskReads} writes {c.DiskWrites} tlb {c.TlbHits}/{c.TlbMisses} " +
                        $"shootdowns {c.Shootdowns} ipis {c.Ipis} errors {c.SyscallErrors};");
            foreach (var kind in Enum.GetValues<ResolutionKind>())
                text.Append($" {kind} {c[kind]}");
            text.AppendLine();
        }
        text.Append($"memory {result.Memory!.Hash:x16} panic {result.Panic}");
        return text.ToString();
    }

    [Theory]
    [MemberData(nameof(All))]
    public void A_barrier_orders_a_store_after_another_cpus_earlier_work(Interleaving interleaving)
    {
        // Without the barrier, sequential order would run cpu0's store first and cpu1's would win.
        var result = On(interleaving,
            "run p\nbarrier b\nstore buf = 100",
            "run p\nload buf:0..9\nstore buf = 200\nbarrier b").Run(seed: 3);
        Assert.Equal(100UL, Word(result, "p", 0));
    }

    [Theory]
    [MemberData(nameof(All))]
    public void A_barrier_named_twice_waits_for_the_second_arrival_too(Interleaving interleaving)
    {
        var result = On(interleaving,
            "run p\nstore buf = 1\nbarrier x\nbarrier x\nstore buf = 3",
            "run p\nbarrier x\nstore buf = 2\nbarrier x").Run(seed: 5);
        Assert.Equal(3UL, Word(result, "p", 0));
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Run_of_a_child_waits_until_the_fork_creates_it(Interleaving interleaving)
    {
        var result = On(interleaving,
            "run kid\nstore buf:0..7",
            "run p\nstore buf:0..7\nfork kid").Run(seed: 11);
        var kid = result.Of("kid").Counters;
        Assert.Equal(8, kid[ResolutionKind.CowBreak]);    // it saw the parent's pages: it ran after the fork
        Assert.Equal(0, kid[ResolutionKind.DemandZero]);
        Assert.Equal(Store(1, 1), Word(result, "kid", 0, word: 1));
    }

    [Fact]
    public void A_barrier_that_is_never_reached_is_a_deadlock_naming_the_line()
    {
        var e = Assert.Throws<WorkloadException>(() => On(Interleaving.RoundRobin,
            "run p\nbarrier a\nbarrier b",
            "run p\nbarrier b\nbarrier a").Run());
        Assert.Equal(2, e.Line);
        Assert.Contains("the workload deadlocks", e.Message);
        Assert.Contains("cpu 0 waits at barrier 'a' (line 2)", e.Message);
        Assert.Contains("cpu 1 waits at barrier 'b' (line 2)", e.Message);
    }

    [Fact]
    public void Waiting_for_a_child_that_is_never_forked_is_a_deadlock()
    {
        var e = Assert.Throws<WorkloadException>(() => On(Interleaving.RoundRobin,
            "run p\nbarrier x\nfork kid",
            "\nrun kid\nbarrier x").Run());
        Assert.Contains("cpu 1 waits for process 'kid' (line 2), which is never forked", e.Message);
        Assert.NotNull(e.Line);
    }

    [Fact]
    public void The_random_interleaving_is_a_function_of_the_seed()
    {
        string[] scripts = ["run p\nstore buf = 1\nstore buf:0..3", "run p\nstore buf = 2\nload buf:0..3", "run p\nstore buf = 3\nstore buf:4..5"];
        var first = On(Interleaving.Random, scripts).Run(seed: 42);
        var again = On(Interleaving.Random, scripts).Run(seed: 42);
        Assert.Equal(Summary(first), Summary(again));
        Assert.Equal(42UL, first.Seed);
        Assert.Null(first.Memory!.FirstDifference(again.Memory!));
    }

    [Fact]
    public void Different_seeds_order_racing_stores_differently()
    {
        // Two CPUs store to the same word: the last one wins, and which is last depends on the seed.
        var winners = new HashSet<ulong>();
        for (ulong seed = 1; seed <= 32; seed++)
            winners.Add(Word(On(Interleaving.Random, "run p\nstore buf = 1", "run p\nstore buf = 2").Run(seed), "p", 0));
        Assert.Equal([1UL, 2UL], winners.Order());
    }

    [Fact]
    public void The_seed_does_not_change_round_robin_or_sequential_runs()
    {
        foreach (var interleaving in new[] { Interleaving.RoundRobin, Interleaving.Sequential })
        {
            var one = On(interleaving, "run p\nstore buf = 1", "run p\nstore buf = 2").Run(seed: 1);
            var two = On(interleaving, "run p\nstore buf = 1", "run p\nstore buf = 2").Run(seed: 2);
            Assert.Equal(Summary(one), Summary(two));
        }
    }

    [Fact]
    public void A_race_free_workload_gives_equal_counts_and_equal_memory_under_every_interleaving()
    {
        string[] scripts =
        [
            "run p\nstore buf:0..15\nbarrier filled\nfork c\nbarrier forked\nstore buf:0..7",
            "run p\nbarrier filled\nload buf:0..15\nbarrier forked",
            "run c\nstore buf:8..15\nload buf:0..15",
        ];
        var expected = Summary(On(Interleaving.RoundRobin, scripts).Run());
        Assert.Equal(expected, Summary(On(Interleaving.Sequential, scripts).Run()));
        for (ulong seed = 1; seed <= 8; seed++)
            Assert.Equal(expected, Summary(On(Interleaving.Random, scripts).Run(seed)));
    }

    [Theory]
    [MemberData(nameof(All))]
    public void The_final_memory_holds_each_cpus_last_store_in_its_own_word(Interleaving interleaving)
    {
        var result = On(interleaving,
            "run p\nstore buf:0..3\nstore buf:0..3",
            "run p\nstore buf:0..3\nstore buf:0..3",
            "run p\nstore buf:0..3\nstore buf:0..3").Run(seed: 9);
        var image = result.Memory!;
        Assert.Equal(4, image.Pages.Length);
        for (ulong page = 0; page < 4; page++)
        {
            var words = image.Pages.Single(p => p.Page.Value == (Heap >> 12) + page).Words;
            for (var cpu = 0; cpu < 3; cpu++)
                Assert.Equal(Store(cpu, 5 + page), words[cpu]);    // the second pass: stores 5..8
            Assert.All(words.Skip(3), w => Assert.Equal(0UL, w));
        }
    }

    [Fact]
    public void Equal_memory_images_have_equal_hashes_and_different_ones_differ()
    {
        var a = On(Interleaving.RoundRobin, "run p\nstore buf = 1").Run().Memory!;
        var b = On(Interleaving.RoundRobin, "run p\nstore buf = 1").Run().Memory!;
        var c = On(Interleaving.RoundRobin, "run p\nstore buf = 2").Run().Memory!;
        Assert.Equal(a.Hash, b.Hash);
        Assert.Null(a.FirstDifference(b));
        Assert.NotEqual(a.Hash, c.Hash);
        Assert.NotNull(a.FirstDifference(c));
    }
}

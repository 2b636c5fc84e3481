using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;

namespace Faultsim.Tests.Model;

/// <summary>Two runs held against each other figure by figure, on runs made up for the purpose.</summary>
public class RunComparisonTests
{
    private static readonly ProcessId Parent = new(1), Child = new(2);

    /// <summary>How a test sets each per-process figure, by its name in the JSON output: every one a run reports.</summary>
    internal static readonly ImmutableDictionary<string, Action<Counters, long>> Setters = new Dictionary<string, Action<Counters, long>>
    {
        ["faults.minor"] = (c, v) => c.Minor = v,
        ["faults.major"] = (c, v) => c.Major = v,
        ["tlb.shootdowns"] = (c, v) => c.Shootdowns = v,
        ["ipis"] = (c, v) => c.Ipis = v,
        ["syscall_errors"] = (c, v) => c.SyscallErrors = v,
        ["pages.zeroed"] = (c, v) => c.PagesZeroed = v,
        ["pages.copied"] = (c, v) => c.PagesCopied = v,
        ["pages.evicted"] = (c, v) => c.PagesEvicted = v,
        ["disk.reads"] = (c, v) => c.DiskReads = v,
        ["disk.writes"] = (c, v) => c.DiskWrites = v,
        ["tlb.hits"] = (c, v) => c.TlbHits = v,
        ["tlb.misses"] = (c, v) => c.TlbMisses = v,
        ["accesses"] = (c, v) => c.Accesses = v,
    }.Concat(Enum.GetValues<ResolutionKind>().Select(kind =>
        KeyValuePair.Create<string, Action<Counters, long>>($"faults.by_resolution.{kind.Name()}", (c, v) => c[kind] = v))).ToImmutableDictionary();

    public static TheoryData<string> ProcessFigures => [.. Setters.Keys.Order()];

    /// <summary>Counters with a different value in every figure, the same for the same <paramref name="seed"/>.</summary>
    private static Counters Counters(int seed)
    {
        var counters = new Counters();
        var value = seed * 100L;
        foreach (var (_, set) in Setters.OrderBy(s => s.Key))
            set(counters, ++value);
        return counters;
    }

    private static ProcessReport Process(ProcessId pid, string name, ProcessFate fate = ProcessFate.Exited, Action<Counters>? change = null)
    {
        var counters = Counters(pid.Value);
        change?.Invoke(counters);
        return new ProcessReport(pid, name, fate, counters);
    }

    private static MemoryImage Memory(ulong word) => new([new PageImage(Parent, new PageNumber(0x10), [word, 0])], []);

    private static RunResult Run(string engine, params ProcessReport[] processes) =>
        new(engine, 1, 2, new Counters(), [.. processes], Memory(7), 12, null);

    private static RunResult Actors(params ProcessReport[] processes) => Run("actors", processes);

    private static RunResult Reference(params ProcessReport[] processes) => Run("reference", processes);

    private static readonly RunResult Both = Reference(Process(Parent, "parent"), Process(Child, "child"));

    [Fact]
    public void Runs_that_agree_on_every_figure_have_no_difference()
    {
        var actual = Actors(Process(Parent, "parent"), Process(Child, "child"));
        Assert.Empty(RunComparison.Differences(actual, Both));
        Assert.Null(RunComparison.FirstDifference(actual, Both));
    }

    [Fact]
    public void A_process_missing_from_the_run_is_a_difference_that_names_it()
    {
        var difference = Assert.Single(RunComparison.Differences(Actors(Process(Parent, "parent")), Both));
        Assert.Equal(("child (pid 2)", "process"), (difference.Where, difference.Figure));
        Assert.Equal("child (pid 2): absent in the actors run, present in the reference run (Exited)", difference.Description);
    }

    [Fact]
    public void A_process_missing_from_the_reference_is_a_difference_that_names_it()
    {
        var actual = Actors(Process(Parent, "parent"), Process(Child, "child"), Process(new ProcessId(3), "grandchild", ProcessFate.Running));
        var difference = Assert.Single(RunComparison.Differences(actual, Both));
        Assert.Equal("grandchild (pid 3): present in the actors run (Running), absent in the reference run", difference.Description);
    }

    [Fact]
    public void A_process_is_the_same_in_both_runs_only_under_the_same_pid_and_name()
    {
        var actual = Actors(Process(Parent, "parent"), Process(Child, "sibling"));
        Assert.Equal(
            ["sibling (pid 2): present in the actors run (Exited), absent in the reference run",
             "child (pid 2): absent in the actors run, present in the reference run (Exited)"],
            RunComparison.Differences(actual, Both).Select(d => d.Description));
    }

    [Theory]
    [MemberData(nameof(ProcessFigures))]
    public void Each_figure_of_a_process_that_differs_is_named_with_both_values(string figure)
    {
        var expected = RunComparison.ProcessFigures.Single(f => f.Name == figure).Of(Counters(2));
        var actual = Actors(Process(Parent, "parent"), Process(Child, "child", change: c => Setters[figure](c, expected + 5)));

        var difference = Assert.Single(RunComparison.Differences(actual, Both));

        Assert.Equal(("child (pid 2)", figure), (difference.Where, difference.Figure));
        Assert.Equal($"child (pid 2): {figure} is {expected + 5} in the actors run, {expected} in the reference run", difference.Description);
    }

    [Fact]
    public void The_comparison_covers_every_figure_a_process_reports()
    {
        Assert.Equal(Setters.Keys.Order(), RunComparison.ProcessFigures.Select(f => f.Name).Order());
        Assert.Equal(RunComparison.ProcessFigures.Length, RunComparison.ProcessFigures.Select(f => f.Name).Distinct().Count());
    }

    [Fact]
    public void A_process_whose_fate_differs_is_a_difference()
    {
        var actual = Actors(Process(Parent, "parent"), Process(Child, "child", ProcessFate.KilledBySigSegv));
        Assert.Equal("child (pid 2): fate is KilledBySigSegv in the actors run, Exited in the reference run",
            Assert.Single(RunComparison.Differences(actual, Both)).Description);
    }

    [Fact]
    public void The_runs_own_figures_are_compared_too()
    {
        var actual = Actors(Process(Parent, "parent"), Process(Child, "child")) with
        {
            NeverStarted = ["orphan"],
            Panic = "kernel oops on cpu0",
            Steps = 13,
        };
        Assert.Equal(
            ["the run: never_started is [orphan] in the actors run, [] in the reference run",
             "the run: panic is \"kernel oops on cpu0\" in the actors run, none in the reference run",
             "the run: steps is 13 in the actors run, 12 in the reference run"],
            RunComparison.Differences(actual, Both).Select(d => d.Description));
    }

    [Fact]
    public void A_final_memory_that_differs_is_a_difference_with_the_first_page_that_does()
    {
        var actual = Actors(Process(Parent, "parent"), Process(Child, "child")) with { Memory = Memory(8) };
        var difference = Assert.Single(RunComparison.Differences(actual, Both));
        Assert.Equal("memory", difference.Figure);
        Assert.Equal("the final memory differs between the actors and reference runs: pid 1 page 0x10: [8 0] vs pid 1 page 0x10: [7 0]",
            difference.Description);
        Assert.Equal("the final memory differs between the actors and reference runs: no image against one",
            RunComparison.FirstDifference(actual with { Memory = null }, Both)!.Description);
    }

    [Fact]
    public void Differences_come_in_order_processes_first_then_each_process_then_the_run_then_memory()
    {
        var actual = Actors(Process(Child, "child", ProcessFate.Running, c => c.Ipis = 0), Process(new ProcessId(3), "extra")) with
        {
            Steps = 1,
            Memory = Memory(9),
        };
        Assert.Equal(["process", "process", "ipis", "fate", "steps", "memory"], RunComparison.Differences(actual, Both).Select(d => d.Figure));
        Assert.Equal("extra (pid 3)", RunComparison.FirstDifference(actual, Both)!.Where);
    }

    [Fact]
    public void Only_the_figures_asked_for_are_compared()
    {
        var actual = Actors(Process(Parent, "parent", change: c => { c.Ipis = 0; c.Accesses = 0; }), Process(Child, "child")) with { Steps = 1 };
        Assert.Equal(["accesses"], RunComparison.Differences(actual, Both, new HashSet<string> { "accesses" }).Select(d => d.Figure));
        Assert.Empty(RunComparison.Differences(actual, Both, new HashSet<string> { "faults.major", "memory" }));
    }
}

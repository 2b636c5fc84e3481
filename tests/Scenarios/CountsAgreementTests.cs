using Faultsim.Actors.Scheduling;
using Faultsim.Host.Running;
using Faultsim.Host.Scenarios;
using Faultsim.Model.Checking;
using Faultsim.Model.Machine;

namespace Faultsim.Tests.Scenarios;

/// <summary>
/// The scenarios that hold the actor engine to the reference machine (checks.counts-match-reference), compared on every
/// figure: the figures invariant 6 leaves out are exactly those the engines still disagree on, so that each goes back
/// into the check as soon as they agree.
/// </summary>
public sealed class CountsAgreementTests : IDisposable
{
    private readonly DeterministicEngine _engine = new();

    public void Dispose() => _engine.Dispose();

    private static readonly string[] Counted =
        [.. ScenarioCatalog.Names.Where(name => ScenarioCatalog.Load(name, []).Checks.CountsMatchReference)];

    /// <summary>The scenario's run on the actor engine and on the reference machine, with invariant 6 itself off.</summary>
    private (RunResult Actors, RunResult Reference) Both(string scenario, ulong seed, params string[] sets)
    {
        var settings = ScenarioCatalog.Load(scenario, sets);
        settings = settings with { Checks = settings.Checks with { CountsMatchReference = false } };
        var report = Runner.Run(settings, settings.Workload, seed, _engine);
        Assert.False(report.Failed, $"{scenario} seed {seed}: {report.Violation?.ToString() ?? report.Stall}");
        return (report.Result!, ReferenceMachine.Run(settings.Workload, seed));
    }

    [Fact]
    public void Four_scenarios_hold_the_engine_to_the_reference()
    {
        Assert.Equal(["cow-after-fork", "cow-mprotect", "cow-swapout", "cow-zeropage"], Counted.Order());
    }

    [Fact]
    public void The_figures_left_out_of_invariant_6_are_exactly_those_the_engines_disagree_on()
    {
        var differing = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var scenario in Counted)
        {
            for (ulong seed = 1; seed <= 3; seed++)
            {
                var (actors, reference) = Both(scenario, seed);
                foreach (var difference in RunComparison.Differences(actors, reference))
                    differing.TryAdd(difference.Figure, $"{scenario} seed {seed}: {difference.Description}");
            }
        }
        foreach (var (figure, example) in differing)
            Assert.True(RunComparison.NotYetAgreed.ContainsKey(figure), $"the engines disagree on {figure}, which invariant 6 compares: {example}");
        foreach (var figure in RunComparison.NotYetAgreed.Keys)
            Assert.True(differing.ContainsKey(figure), $"the engines agree on {figure} now: take it out of RunComparison.NotYetAgreed");
    }

    [Fact(Skip = "Bug in src/Actors/Cpu/CpuActor.cs: Step counts an access operation each time it hands the TLB a quantum of it, and "
        + "Executed adds the accesses the quantum completed, so steps exceed the reference machine's by one per quantum "
        + "(cow-after-fork: 19 against 16, and 28 with actors.quantum = 1). RunResult.Steps is one per access or system call.")]
    public void A_run_counts_the_reference_machines_steps_whatever_the_quantum()
    {
        foreach (var quantum in new[] { "64", "1" })
        {
            var (actors, reference) = Both("cow-after-fork", 1, $"actors.quantum={quantum}");
            Assert.Equal(reference.Steps, actors.Steps);
        }
    }

    [Fact(Skip = "Bug in src/Actors/Tlb/TlbActor.cs: after a fault whose translation still forbids the access (cow-swapout: a page "
        + "read back from swap read-only, then written), Resolved counts the retry's walk as a miss and fills the TLB, then Run "
        + "counts the lookup of that entry as a hit before the protection fault; the reference machine counts the retry's one "
        + "lookup, a miss. The child counts 4 hits on actors, 0 on the reference, whatever actors.quantum is.")]
    public void After_a_swap_in_and_a_cow_break_both_engines_count_the_same_tlb_hits()
    {
        foreach (var quantum in new[] { "64", "1" })
        {
            var (actors, reference) = Both("cow-swapout", 1, $"actors.quantum={quantum}");
            Assert.Equal(reference.Processes.Select(p => (p.Name, p.Counters.TlbHits, p.Counters.TlbMisses)),
                actors.Processes.Select(p => (p.Name, p.Counters.TlbHits, p.Counters.TlbMisses)));
        }
    }
}

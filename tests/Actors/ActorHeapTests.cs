using Faultsim.Actors.Scheduling;
using Faultsim.Model.Common;
using Faultsim.Model.Workloads;
using Faultsim.Model.Workloads.Generators;
using Faultsim.Tests.Model;

namespace Faultsim.Tests.Actors;

/// <summary>The actor engine's memory over a long deterministic run: it holds its live actors, not every actor it ever had. Nothing here is timed.</summary>
[Collection(HeapCollection.Name)]
public sealed class ActorHeapTests
{
    private static readonly GeneratorSpec Spec = GeneratorSpec.Defaults;

    /// <summary>
    /// A deterministic actor run of a churn: every munmap starts a shootdown round, an actor that stops when its acks
    /// are in, so thousands of actors come and go — and the scheduler forgets each one's mailbox with it, so the live
    /// heap at the end of the stream is what it was early on (keeping them grew it by about 1.5 KB a round, 9 MB here).
    /// </summary>
    [Fact]
    public void A_deterministic_actor_run_whose_actors_come_and_go_keeps_its_heap_flat()
    {
        var spec = Spec with { Kind = GeneratorKind.Churn, Rounds = 3_000, MapPages = 2 };
        var workload = WorkloadGenerator.Generate(spec, new MachineSpec { Cpus = 2 }, 1, 1);
        var probe = new ConstantMemoryTests.HeapProbe(((Op.Stream)workload.Scripts[0].Ops[0]).Source, weighAt: 300);
        workload = workload with { Scripts = [new CpuScript(new(0), [new Op.Stream(1, probe)]), workload.Scripts[1]] };
        using var engine = new DeterministicEngine();
        var run = engine.Run(workload, ActorEngineTests.Settings, 1, new RandomWalkStrategy(new SimRandom(1)));

        Assert.Null(run.Violation);
        Assert.Equal(2 * 3_000, run.Result!.Totals.Shootdowns);
        Assert.Equal(2, probe.Weights.Count);
        Assert.True(probe.Weights[1] - probe.Weights[0] < 1 << 20,
            $"the live heap of the run grew from {probe.Weights[0]:N0} to {probe.Weights[1]:N0} bytes over {run.Result.Totals.Shootdowns:N0} shootdown rounds");
    }
}

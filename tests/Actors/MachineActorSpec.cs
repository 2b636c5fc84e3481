using System.Collections.Immutable;
using Akka.TestKit;
using Faultsim.Actors.Cpu;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;
using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;
using Faultsim.Tests.Model;

namespace Faultsim.Tests.Actors;

/// <summary>The machine's barriers, its deadlock rule and its end of a run, with the real CPUs, mms, memory and disk.</summary>
public sealed class MachineActorSpec : DeterministicSpec
{
    private readonly TestProbe _host;

    public MachineActorSpec()
    {
        _host = CreateTestProbe("host");
    }

    [Fact]
    public void Once_every_cpu_has_finished_the_machine_collects_what_each_reported_into_the_result()
    {
        Run("run p\nstore buf:0..9", "run p\nload buf:10..11");
        var result = Next<RunFinished>(_host).Result;
        Assert.Equal((1 + 10 + 1 + 2L, 10 + 2L), (result.Steps, result.Totals.Minor)); // every step of both CPUs; ten stores, two loads
        Assert.Equal("p", result.Processes.Single().Name);
        AssertSilent(_host);
    }

    [Fact]
    public void A_failure_while_the_machine_collects_ends_the_run_at_once()
    {
        var machine = Run("run p\nstore buf:0..9");
        RunUntil(() => StateOf(machine) == "CollectingMms", "the machine collected");
        machine.Tell(new SimulationFailed("memory threw"), machine); // as its supervision tells it
        Assert.Equal("memory threw", Next<RunCrashed>(_host).Message);
        AssertSilent(_host); // and nothing after it
    }

    private Akka.Actor.IActorRef Run(params string[] scripts)
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = scripts.Length }, [Workloads.Process("p", Workloads.Anon("buf", Workloads.Heap, 256 * 4096))], scripts);
        var machine = Spawn(MachineActor.Props(workload, EngineSettings.Default, seed: 1), _host);
        machine.Tell(StartRun.Instance, _host.Ref);
        return machine;
    }

    [Fact]
    public void A_barrier_holds_the_first_cpu_until_the_other_arrives()
    {
        Run("run p\nbarrier b\nload buf:1", "run p\nstore buf:2..200\nstore buf:1\nbarrier b");
        var result = Next<RunFinished>(_host).Result;
        Assert.Equal(200, result.Totals.Minor); // cpu 0 loads page 1 only after cpu 1 stored it last: no fault of its own
    }

    [Fact]
    public void When_every_cpu_still_running_waits_the_machine_fails_the_run_in_the_reference_machines_words()
    {
        Run("run p\nbarrier b", "run p\nstore buf:0\nrun ghost\nbarrier b");
        var failed = Next<RunFailed>(_host);
        Assert.Equal((2, "the workload deadlocks: cpu 0 waits at barrier 'b' (line 2), which another CPU never reaches; "
                         + "cpu 1 waits for process 'ghost' (line 3), which is never forked"), (failed.Line, failed.Message));
    }
}

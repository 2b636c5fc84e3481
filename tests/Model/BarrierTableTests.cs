using Faultsim.Model.Addressing;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Model;

public sealed class BarrierTableTests
{
    private static readonly CpuId Cpu0 = new(0), Cpu1 = new(1), Cpu2 = new(2);

    private static BarrierTable Table() => new(3,
    [
        new CpuScript(Cpu0, ScriptParser.Parse("barrier b\nbarrier b", 1)),
        new CpuScript(Cpu1, ScriptParser.Parse("barrier b\nbarrier b", 1)),
        new CpuScript(Cpu2, ScriptParser.Parse("barrier other", 1)),
    ]);

    [Fact]
    public void A_cpu_passes_its_nth_arrival_once_every_cpu_naming_the_barrier_has_arrived_n_times()
    {
        var table = Table();
        table.Arrive(Cpu0, "b");
        Assert.False(table.IsOpen(Cpu0, "b"));
        table.Arrive(Cpu1, "b");
        Assert.True(table.IsOpen(Cpu0, "b")); // cpu 2 never names it: it is not waited for
        Assert.True(table.IsOpen(Cpu1, "b"));
        table.Arrive(Cpu1, "b");
        Assert.False(table.IsOpen(Cpu1, "b")); // its second arrival waits for cpu 0's second
        Assert.True(table.IsOpen(Cpu0, "b"));
    }

    [Fact]
    public void A_workload_deadlocks_when_every_cpu_not_finished_waits_and_one_does()
    {
        Assert.True(BarrierTable.Deadlocks(cpus: 3, finished: 1, waiting: 2));
        Assert.True(BarrierTable.Deadlocks(cpus: 3, finished: 0, waiting: 3));
        Assert.False(BarrierTable.Deadlocks(cpus: 3, finished: 1, waiting: 1)); // one CPU still runs: it may fork or arrive
        Assert.False(BarrierTable.Deadlocks(cpus: 3, finished: 3, waiting: 0)); // all done: the run ends
    }

    [Fact]
    public void A_deadlock_is_told_cpu_by_cpu_at_the_first_cpus_line()
    {
        var error = BarrierTable.Deadlock(
        [
            (Cpu1, new CpuStep(CpuStepKind.Barrier, "b", 7)),
            (Cpu0, new CpuStep(CpuStepKind.Switch, "ghost", 3)),
        ]);
        Assert.Equal(3, error.Line);
        Assert.Equal("the workload deadlocks: cpu 0 waits for process 'ghost' (line 3), which is never forked; "
                     + "cpu 1 waits at barrier 'b' (line 7), which another CPU never reaches", error.Message);
    }
}

using Faultsim.Model.Addressing;

namespace Faultsim.Model.Workloads;

/// <summary>
/// The barriers of a workload, for every engine alike: a barrier's participants are the CPUs whose scripts name it, and a
/// CPU passes its nth arrival once every participant has arrived n times. Also the rule that a workload whose CPUs all
/// wait (for a process never forked, or at a barrier another CPU never reaches) deadlocks, and how that is told.
/// </summary>
public sealed class BarrierTable
{
    private readonly Dictionary<string, (bool[] Participants, int[] Arrivals)> _barriers = [];

    public BarrierTable(int cpus, IEnumerable<CpuScript> scripts)
    {
        foreach (var script in scripts)
        {
            foreach (var barrier in script.Declared.OfType<Op.Barrier>())
            {
                if (!_barriers.TryGetValue(barrier.Name, out var entry))
                    _barriers[barrier.Name] = entry = (new bool[cpus], new int[cpus]);
                entry.Participants[script.Cpu.Value] = true;
            }
        }
    }

    public void Arrive(CpuId cpu, string name) => _barriers[name].Arrivals[cpu.Value]++;

    /// <summary>Whether <paramref name="cpu"/>, having arrived at <paramref name="name"/>, may pass: every participant has arrived as often.</summary>
    public bool IsOpen(CpuId cpu, string name)
    {
        var (participants, arrivals) = _barriers[name];
        var mine = arrivals[cpu.Value];
        for (var i = 0; i < arrivals.Length; i++)
        {
            if (participants[i] && arrivals[i] < mine)
                return false;
        }
        return true;
    }

    /// <summary>
    /// Whether a workload deadlocks: some of its <paramref name="cpus"/> CPUs wait (<paramref name="waiting"/>: for a process
    /// never forked, or at a barrier), and every one that has not <paramref name="finished"/> does.
    /// </summary>
    public static bool Deadlocks(int cpus, int finished, int waiting) => waiting > 0 && waiting + finished >= cpus;

    /// <summary>
    /// The error of a workload whose CPUs still running all wait, each at the step it waits in (<see cref="CpuStepKind.Switch"/>
    /// to a process never forked, or <see cref="CpuStepKind.Barrier"/>): at the first CPU's line, every CPU's wait told.
    /// </summary>
    public static WorkloadException Deadlock(IEnumerable<(CpuId Cpu, CpuStep Step)> stuck)
    {
        var waits = stuck.OrderBy(s => s.Cpu.Value).ToList();
        var reasons = waits.Select(w => w.Step.Kind switch
        {
            CpuStepKind.Switch => $"cpu {w.Cpu.Value} waits for process '{w.Step.Name}' (line {w.Step.Line}), which is never forked",
            CpuStepKind.Barrier => $"cpu {w.Cpu.Value} waits at barrier '{w.Step.Name}' (line {w.Step.Line}), which another CPU never reaches",
            _ => $"cpu {w.Cpu.Value} is stuck at line {w.Step.Line}",
        });
        return new WorkloadException(waits[0].Step.Line, "the workload deadlocks: " + string.Join("; ", reasons));
    }
}

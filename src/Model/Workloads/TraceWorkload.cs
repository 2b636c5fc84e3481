using Faultsim.Model.Addressing;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Workloads;

/// <summary>How several traces run together: as threads of one process, or each as a process of its own.</summary>
public enum TraceMode
{
    /// <summary>One process; trace i runs on CPU i, every CPU in the one address space.</summary>
    Threads,
    /// <summary>Process trace<c>i</c> runs trace i on CPU i, each in an address space of its own.</summary>
    Processes,
}

/// <summary>
/// Programs' memory traces as a workload: each trace replayed (<see cref="Op.Replay"/>) on a CPU of its own, from CPU 0,
/// by a process whose address space is one anonymous read-write-exec region over the whole user address space from
/// <see cref="RegionStart"/> — so every traced user address is mapped, wherever the program put it, and only the pages
/// the trace touches ever get a page-table entry or a frame.
/// </summary>
public static class TraceWorkload
{
    /// <summary>The process of <see cref="TraceMode.Threads"/>, and the prefix of those of <see cref="TraceMode.Processes"/>.</summary>
    public const string Process = "trace";

    public const string Region = "trace";

    /// <summary>Where the region starts: Linux's default vm.mmap_min_addr (64 KiB), below which nothing is mapped.</summary>
    public static readonly VirtualAddress RegionStart = new(0x1_0000);

    /// <summary>The one region of a traced process: <see cref="RegionStart"/> up to the end of the user address space, anonymous, read-write-exec.</summary>
    public static RegionSpec RegionSpec => new(Region, RegionStart, VirtualAddress.UserEnd - RegionStart, VmaFlags.Read | VmaFlags.Write | VmaFlags.Exec, null, 0);

    /// <summary>The process that runs trace <paramref name="index"/> under <paramref name="mode"/>.</summary>
    public static string ProcessOf(TraceMode mode, int index) => mode == TraceMode.Threads ? Process : $"{Process}{index}";

    /// <summary>
    /// The workload that replays <paramref name="traces"/> on <paramref name="machine"/> (given enough CPUs for one trace
    /// each): trace i on CPU i, under <paramref name="mode"/>.
    /// </summary>
    public static Workload ToWorkload(IReadOnlyList<IAccessSource> traces, TraceMode mode, MachineSpec machine)
    {
        if (traces.Count == 0)
            throw new WorkloadException(null, "no trace to replay");
        var processes = Enumerable.Range(0, mode == TraceMode.Threads ? 1 : traces.Count)
            .Select(i => new ProcessSpec(ProcessOf(mode, i), [RegionSpec], null));
        var scripts = traces.Select((trace, i) => new CpuScript(new CpuId(i), [new Op.Run(1, ProcessOf(mode, i)), new Op.Replay(1, trace)]));
        return new Workload(machine with { Cpus = Math.Max(machine.Cpus, traces.Count) }, [], [.. processes], [.. scripts]);
    }
}

using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Machine;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>Builds small workloads for tests: regions and scripts in the script language.</summary>
internal static class Workloads
{
    public const ulong Heap = 0x1000_0000;

    public static RegionSpec Anon(string name, ulong start, ulong length, VmaFlags flags = VmaFlags.Read | VmaFlags.Write) =>
        new(name, new VirtualAddress(start), length, flags, null, 0);

    public static RegionSpec FileMap(string name, ulong start, ulong length, string file, VmaFlags flags = VmaFlags.Read, ulong offset = 0) =>
        new(name, new VirtualAddress(start), length, flags, file, offset);

    public static ProcessSpec Process(string name, params RegionSpec[] regions) => new(name, [.. regions], null);

    /// <summary>A workload of one process per entry of <paramref name="processes"/> and one script per CPU.</summary>
    public static Workload Make(MachineSpec machine, ImmutableArray<ProcessSpec> processes, params string[] scripts) =>
        new(machine, [], processes, [.. scripts.Select((s, i) => new CpuScript(new CpuId(i), ScriptParser.Parse(s, 1)))]);

    public static Workload WithFiles(this Workload workload, params FileSpec[] files) => workload with { Files = [.. files] };

    public static RunResult Run(this Workload workload, ulong seed = 1) => ReferenceMachine.Run(workload, seed);

    public static ProcessReport Of(this RunResult result, string process) => result.Processes.Single(p => p.Name == process);
}

using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Workloads;

/// <summary>Checks what can be checked before a run: scripts name CPUs, processes, regions and files that exist.</summary>
public static class WorkloadValidator
{
    // The workloads found valid, by instance, beside them (a workload is immutable; a `with` copy is a new instance):
    // the reader, each engine and the reference machine's check all ask, and explore asks again for every seed.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Workload, object> Valid = new();
    private static readonly object Checked = new();

    public static void Validate(Workload workload)
    {
        if (Valid.TryGetValue(workload, out _))
            return;
        Check(workload);
        Valid.AddOrUpdate(workload, Checked);
    }

    private static void Check(Workload workload)
    {
        var declared = workload.Processes.Select(p => p.Name).ToHashSet();
        var files = workload.Files.Select(f => f.Name).ToHashSet();
        var regions = workload.Processes.SelectMany(p => p.Regions).Select(r => r.Name).ToHashSet();
        var forks = new HashSet<string>();
        foreach (var fork in workload.Scripts.SelectMany(s => s.Declared).OfType<Op.Fork>())
        {
            if (declared.Contains(fork.Child) || !forks.Add(fork.Child))
                throw new WorkloadException(fork.Line, $"process '{fork.Child}' already exists; give each forked child a new name");
        }
        foreach (var region in workload.Processes.SelectMany(p => p.Regions))
        {
            if (AddressSpace.MapRefusal(region.Start, region.Length) is { } refusal)
                throw new WorkloadException(null, $"region '{region.Name}' {refusal}");
        }
        foreach (var map in workload.Scripts.SelectMany(s => s.Declared).OfType<Op.Map>())
        {
            if (map.Start.Region is null && AddressSpace.MapRefusal(new VirtualAddress((ulong)map.Start.Offset), map.Length) is { } refusal)
                throw new WorkloadException(map.Line, $"mmap {map.Name} is refused: the mapping {refusal}");
            regions.Add(map.Name);
            if (map.File is { } file && !files.Contains(file))
                throw new WorkloadException(map.Line, $"mmap names file '{file}', which is not in the files section");
        }

        foreach (var script in workload.Scripts)
        {
            if (script.Cpu.Value < 0 || script.Cpu.Value >= workload.Machine.Cpus)
                throw new WorkloadException(script.Ops.FirstOrDefault()?.Line,
                    $"there is a script for cpu {script.Cpu.Value} but the machine has {workload.Machine.Cpus} CPUs (0..{workload.Machine.Cpus - 1}); raise machine.cpus or drop the script");
            var running = false;
            foreach (var op in script.Declared)
            {
                switch (op)
                {
                    case Op.Run run:
                        if (!declared.Contains(run.Process) && !forks.Contains(run.Process))
                            throw new WorkloadException(op.Line, $"no process '{run.Process}': declare it under processes or fork it");
                        running = true;
                        break;
                    case Op.Barrier:
                        break;
                    case var _ when !running:
                        throw new WorkloadException(op.Line, "this CPU runs no process yet: start its script with 'run PROCESS'");
                }
                foreach (var region in RegionsNamed(op))
                {
                    if (!regions.Contains(region))
                        throw new WorkloadException(op.Line, $"no region '{region}': declare it under the process's regions or mmap it first");
                }
            }
        }
    }

    private static IEnumerable<string> RegionsNamed(Op op)
    {
        var names = op switch
        {
            Op.Access { Target: AccessTarget.At at } => [at.Address.Region],
            Op.Access { Target: AccessTarget.Pages pages } => [pages.Region],
            Op.Map map => [map.Start.Region],
            Op.Unmap unmap => [unmap.Range.Start.Region],
            Op.Protect protect => [protect.Range.Start.Region],
            Op.Advise advise => [advise.Range.Start.Region],
            Op.SetStackPointer sp => [sp.Address.Region],
            _ => Array.Empty<string?>(),
        };
        return names.OfType<string>();
    }

    /// <summary>Whether two regions of one process overlap.</summary>
    public static bool Overlap(RegionSpec a, RegionSpec b) =>
        a.Start.Value < b.Start.Value + b.Length && b.Start.Value < a.Start.Value + a.Length;

    public static bool IsGrowsDown(RegionSpec region) => (region.Flags & VmaFlags.GrowsDown) != 0;
}

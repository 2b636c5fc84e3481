using Faultsim.Model.Addressing;
using Faultsim.Model.Replacement;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Workloads;

/// <summary>
/// The textbook page-replacement experiment as a workload: one process on CPU 0 stores to page n
/// of one anonymous region for each reference n, so every page needs a frame of its own and every
/// textbook "page fault" is a fault here (the first touch minor, a re-touch after eviction major).
/// </summary>
public static class ReferenceString
{
    public const string Process = "refs";
    public const string Region = "pages";
    public static readonly VirtualAddress RegionStart = new(0x1000_0000);

    /// <summary>Parses "7,0,1,2" into page numbers.</summary>
    public static IReadOnlyList<ulong> Parse(string text)
    {
        var pages = new List<ulong>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!ulong.TryParse(part, out var page) || page > 1_000_000)
                throw new WorkloadException(null, $"bad page '{part}' in reference string '{text}'; write page numbers 0..1000000 separated by commas, e.g. 7,0,1,2");
            pages.Add(page);
        }
        return pages;
    }

    public static Workload ToWorkload(IReadOnlyList<ulong> pages, int frames, ReplacementPolicyKind policy, MachineSpec machine)
    {
        if (pages.Count == 0)
            throw new WorkloadException(null, "the reference string is empty");
        var length = (pages.Max() + 1) * VirtualAddress.PageSize;
        var region = new RegionSpec(Region, RegionStart, length, VmaFlags.Read | VmaFlags.Write, null, 0);
        var ops = new List<Op> { new Op.Run(1, Process) };
        ops.AddRange(pages.Select((page, i) => new Op.Access(i + 1, AccessKind.Write, new AccessTarget.Pages(Region, page, page), AccessMode.User, null)));
        return new Workload(
            machine with { Frames = frames, Policy = policy, Cpus = Math.Max(1, machine.Cpus) },
            [],
            [new ProcessSpec(Process, [region], null)],
            [new CpuScript(new CpuId(0), [.. ops])]);
    }
}

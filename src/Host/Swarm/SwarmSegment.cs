namespace Faultsim.Host.Swarm;

/// <summary>
/// The lines one CPU runs in one phase: loads, stores and fetches over the regions it knows, and system calls — mmap,
/// munmap, mprotect, madvise (dontneed, pageout; normal, sequential, random, willneed), read(2) and write(2) into user buffers, fork, exit, stack growth.
/// </summary>
internal sealed class SwarmSegment(SwarmGenerator draw, CpuDraw cpu, int phase, bool raceFreeShape)
{
    private static readonly string[] Protections = ["r", "rw", "none", "rx", "rw"];
    private static readonly string[] ReadAdvices = ["normal", "sequential", "random", "willneed"];

    public void Write(int lines)
    {
        for (var i = 0; i < lines; i++)
        {
            if (!(draw.Chance(draw.Options.Syscalls) && Syscall()))
                Access();
            if (cpu.Lines[^1] == "exit")
                return; // what the process would do after it is skipped
        }
    }

    private SwarmRegion AnyRegion() => cpu.Known[draw.Random.Next(cpu.Known.Count)];

    private void Add(string line) => cpu.Lines.Add(line);

    /// <summary>A load, store or fetch: a page range at the CPU's own word, or one word of a page.</summary>
    private void Access()
    {
        var kind = draw.Pick(("load", 4), ("store", 5), ("fetch", draw.Has(SwarmFeature.Fetches) ? 2 : 0));
        var region = AnyRegion();
        if (kind == "fetch" && cpu.Known.Where(r => r.Executable).ToList() is { Count: > 0 } code && draw.Random.Next(5) > 0)
            region = code[draw.Random.Next(code.Count)];
        if (draw.Has(SwarmFeature.BadAccesses) && draw.Random.Next(20) == 0)
        {
            Add($"{kind} {region.Name}:{region.Pages + draw.Random.Next(3)}"); // past the region: SIGSEGV
            return;
        }
        var first = draw.Random.Next(region.Pages);
        var verb = kind == "store" && draw.ForcedWrite() ? "force-write" : kind; // (the kernel's forced write, as Dirty COW made it)
        if (kind != "fetch" && draw.Random.Next(5) == 0 && (kind == "load" || draw.Has(SwarmFeature.ExplicitStores)))
        {
            var offset = (ulong)first * 4096 + (ulong)draw.Random.Next(8) * 8;
            Add(kind == "store" ? $"{verb} {region.Name}+0x{offset:x} = 0x{draw.Random.NextUInt64() >> 16:x}" : $"load {region.Name}+0x{offset:x}");
            return;
        }
        Add($"{verb} {Pages(region, first)}");
    }

    /// <summary>Pages of <paramref name="region"/> from <paramref name="first"/>: one, or a short range.</summary>
    private string Pages(SwarmRegion region, int first)
    {
        var last = first + draw.Random.Next(Math.Min(4, region.Pages - first));
        return last == first ? $"{region.Name}:{first}" : $"{region.Name}:{first}..{last}";
    }

    /// <summary>A range of a region: the whole of it, or some of its pages.</summary>
    private string Range(SwarmRegion region)
    {
        if (draw.Random.Next(5) < 3)
            return region.Name;
        var first = draw.Random.Next(region.Pages);
        var pages = 1 + draw.Random.Next(region.Pages - first);
        return $"{region.Name}+0x{(ulong)first * 4096:x} {(ulong)pages * 4096}";
    }

    /// <summary>A system call of a kind the draw has; false when it has none that fits here.</summary>
    private bool Syscall()
    {
        var stacks = cpu.Known.Where(r => r.Kind == SwarmRegionKind.Stack).ToList();
        var menu = new List<(SwarmFeature Feature, int Weight)>();
        foreach (var (feature, weight) in new[]
                 {
                     (SwarmFeature.SysReads, 3), (SwarmFeature.SysWrites, 3), (SwarmFeature.Mmaps, 3), (SwarmFeature.Munmaps, 2),
                     (SwarmFeature.Mprotects, 3), (SwarmFeature.DontNeeds, 3), (SwarmFeature.PageOuts, 3), (SwarmFeature.Forks, 3),
                     (SwarmFeature.Exits, 1), (SwarmFeature.StackGrowth, stacks.Count > 0 ? 3 : 0), (SwarmFeature.ReadAdvice, 3),
                 })
        {
            if (weight > 0 && draw.Has(feature))
                menu.Add((feature, weight));
        }
        if (menu.Count == 0)
            return false;
        var roll = draw.Random.Next(menu.Sum(m => m.Weight));
        var chosen = menu.First(m => (roll -= m.Weight) < 0).Feature;
        switch (chosen)
        {
            case SwarmFeature.SysReads or SwarmFeature.SysWrites:
                var call = chosen == SwarmFeature.SysReads ? "sys-read" : "sys-write";
                var region = AnyRegion();
                Add(draw.Has(SwarmFeature.BadAccesses) && draw.Random.Next(6) == 0
                    ? $"{call} 0x{0x10 + draw.Random.Next(64) * 8:x}"   // a bad pointer: EFAULT
                    : $"{call} {Pages(region, draw.Random.Next(region.Pages))}");
                return true;
            case SwarmFeature.Mmaps:
                Map();
                return true;
            case SwarmFeature.Munmaps:
                Add($"munmap {Range(AnyRegion())}");
                return true;
            case SwarmFeature.Mprotects:
                Add($"mprotect {Range(AnyRegion())} {Protections[draw.Random.Next(Protections.Length)]}");
                return true;
            case SwarmFeature.DontNeeds or SwarmFeature.PageOuts:
                Add($"madvise {Range(AnyRegion())} {(chosen == SwarmFeature.DontNeeds ? "dontneed" : "pageout")}");
                return true;
            case SwarmFeature.ReadAdvice:
                Add($"madvise {Range(AnyRegion())} {ReadAdvices[draw.Random.Next(ReadAdvices.Length)]}");
                return true;
            case SwarmFeature.Forks:
                return Fork();
            case SwarmFeature.Exits:
                Add("exit");
                return true;
            default:
                var stack = stacks[draw.Random.Next(stacks.Count)];
                var below = 1 + draw.Random.Next(8);
                Add($"sp {stack.Name}-0x{(ulong)below * 4096:x}");
                Add($"{(draw.Random.Next(3) == 0 ? "load" : "store")} {stack.Name}-0x{(ulong)(1 + draw.Random.Next(below)) * 4096:x}");
                return true;
        }
    }

    /// <summary>mmap(MAP_FIXED) of a new region in a slot of its own, which this CPU then knows.</summary>
    private void Map()
    {
        var kinds = draw.RegionKinds(cpu.Process!.Tree, raceFreeShape, stack: true);
        var region = draw.NewRegion(draw.NextMappedName(), kinds[draw.Random.Next(kinds.Count)], cpu.Process.Tree, raceFreeShape);
        var backing = region.File is { } file ? region.Offset == 0 ? $"file:{file}" : $"file:{file}+0x{region.Offset:x}" : "anon";
        var sharing = region.Shared ? " shared" : "";
        var growsDown = region.Kind == SwarmRegionKind.Stack ? " growsdown" : "";
        Add($"mmap {region.Name} 0x{region.Start:x} {region.Pages * 4}K {region.Prot} {backing}{sharing}{growsDown}");
        cpu.Known.Add(region);
    }

    /// <summary>fork: a child that later phases may run, or that this CPU runs at once.</summary>
    private bool Fork()
    {
        if (draw.Fork(cpu, phase) is not { } child)
            return false;
        Add($"fork {child.Name}");
        if (draw.Random.Next(10) < 3)
            draw.Switch(cpu, child);
        return true;
    }
}

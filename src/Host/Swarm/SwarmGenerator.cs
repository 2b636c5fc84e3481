using Faultsim.Model.Common;

namespace Faultsim.Host.Swarm;

/// <summary>
/// Draws a whole run from one seed (swarm testing): the knobs, the disk's files, the processes and their regions, and a
/// script per CPU in phases. Every CPU passes a barrier between two phases, and a forked child runs only in a phase after
/// its fork (or on the CPU that forked it, right after), so no draw can deadlock; an operation names only regions the CPU
/// surely knows. Each kind of operation and region is in a draw or not (<see cref="SwarmOptions.FeatureChance"/>), so
/// draws differ in what they do. A pure function of (seed, options, pins): nothing else is read.
/// </summary>
public sealed class SwarmGenerator
{
    private const ulong Stream = 0x5ca1ab1e_0ddba11UL; // the draw's random stream is not a run's
    private const ulong ForcedStream = 0xf0bce_d0c0ffeeUL; // forced writes draw from their own: the other draws stay as they were
    private const ulong LockStream = 0x10cced_5eedUL;    // mlock, munlock and mremap lines: a stream of their own, so the rest of a draw is as it was
    private static readonly string[] Policies = ["fifo", "lru", "clock", "opt"];
    private static readonly string[] Shootdowns = ["eager", "batched", "lazy"];
    private static readonly int[] Quanta = [1, 2, 3, 4, 8, 16, 64];

    private readonly SimRandom _random;
    private readonly SimRandom _forced;
    private readonly bool _forcedWrites;
    private readonly SimRandom _locks;
    private readonly bool _lockOps;  // whether this draw has mlock, munlock and mremap lines (a feature, drawn from their stream)
    private readonly SwarmOptions _options;
    private readonly HashSet<SwarmFeature> _features = [];
    private readonly List<SwarmFile> _files = [];
    private readonly Dictionary<string, int> _fileOwners = [];                 // race-free shape: the tree each file is for
    private readonly List<SwarmProcess> _processes = [];
    private readonly Dictionary<string, HashSet<int>> _fileTrees = [];          // the trees that map each file
    private readonly Dictionary<int, HashSet<int>> _treeCpus = [];              // the CPUs that run each tree
    private int _slots, _mapped, _forks;

    private SwarmGenerator(ulong seed, SwarmOptions options)
    {
        _random = new SimRandom(seed ^ Stream);
        _locks = new SimRandom(seed ^ LockStream);
        _options = options;
        _forced = new SimRandom(seed ^ ForcedStream);
        _forcedWrites = _forced.NextDouble() < options.ForcedWrites;
        _lockOps = _locks.NextDouble() < options.LockOps;
    }

    /// <summary>Whether the store being drawn is made a forced kernel write (force-write); only the forced writes' own stream decides.</summary>
    public bool ForcedWrite() => _forcedWrites && _forced.NextDouble() < _options.ForcedWriteShare;

    /// <summary>The draw of <paramref name="seed"/> within <paramref name="options"/>, with the knobs <paramref name="pins"/> pins.</summary>
    public static SwarmWorld Draw(ulong seed, SwarmOptions options, SwarmPins pins) => new SwarmGenerator(seed, options).Run(seed, pins);

    /// <summary>The scenario-file text of <paramref name="seed"/>'s draw.</summary>
    public static SwarmDraw Text(ulong seed, SwarmOptions options, SwarmPins pins) => SwarmText.Of(Draw(seed, options, pins));

    private SwarmWorld Run(ulong seed, SwarmPins pins)
    {
        var raceFreeShape = Chance(_options.RaceFree);
        var knobs = Knobs(pins, raceFreeShape);
        foreach (var feature in Enum.GetValues<SwarmFeature>())
        {
            if (Chance(_options.FeatureChance))
                _features.Add(feature);
        }
        var roots = raceFreeShape ? Math.Min(knobs.Cpus, _options.MaxProcesses) : 1 + _random.Next(_options.MaxProcesses);
        var files = Has(SwarmFeature.FileRegions) ? _random.Next(_options.MaxFiles + 1) : 0;
        for (var f = 0; f < files; f++)
        {
            var pages = 1 + _random.Next(_options.MaxPages);
            _files.Add(new SwarmFile($"f{f}", (ulong)pages * 4096 - (_random.Next(4) == 0 ? 2048UL : 0)));
            if (raceFreeShape)
                _fileOwners[$"f{f}"] = _random.Next(roots);
        }
        for (var p = 0; p < roots; p++)
            _processes.Add(new SwarmProcess($"p{p}", p, StartingRegions(p, raceFreeShape), BornInPhase: -1));
        var regions = _processes.Sum(p => p.Known.Count);

        var phases = 1 + _random.Next(_options.MaxPhases);
        var cpus = Enumerable.Range(0, knobs.Cpus).Select(cpu => new CpuDraw(cpu, LinesPerPhase(phases))).ToList();
        for (var phase = 0; phase < phases; phase++)
        {
            foreach (var cpu in cpus)
            {
                if (raceFreeShape && cpu.Cpu >= roots)
                    continue; // a CPU with no tree of its own stays idle
                Segment(cpu, phase, raceFreeShape);
                if (phase < phases - 1)
                    cpu.Lines.Add($"barrier b{phase + 1}");
            }
        }
        var settings = new List<(string Key, string Value)>();
        var shapes = new SwarmShapes(seed, _options);
        List<string> shaped = [];
        if (!raceFreeShape)
        {
            var first = _processes[0];
            var added = new List<SwarmRegion>();
            shaped = shapes.Apply(cpus, first, added, _files, () => _slots++, _options.MaxForks > 0, settings);
            _processes[0] = first with { Known = [.. first.Known, .. added] };
            regions += added.Count;
        }
        var scripts = cpus.Where(c => c.Ran).ToDictionary(c => c.Cpu, c => (IReadOnlyList<string>)c.Lines);
        regions += _mapped;
        // Loader crashes (drawn only for racy shapes, unless pinned) leave every figure but the TLB's as the reference's.
        var raceFree = shaped.Count == 0 && knobs.ReadErrorRate == 0
            && (scripts.Count <= 1 || (knobs.Frames == 0 && _treeCpus.Values.All(c => c.Count <= 1) && _fileTrees.Values.All(t => t.Count <= 1)));
        return new SwarmWorld(seed, knobs, _files, [.. _processes.Where(p => p.BornInPhase < 0)],
            [.. _processes.Where(p => p.BornInPhase >= 0).Select(p => p.Name)], scripts, raceFree, regions, phases, shaped, settings);
    }

    /// <summary>
    /// The knobs: each drawn whether pinned or not (so that pinning one leaves the rest of the draw as it was), then the
    /// pins applied. A race-free shape has no crashes, no disk errors, and no frame limit on several CPUs — unless pinned.
    /// </summary>
    private SwarmKnobs Knobs(SwarmPins pins, bool raceFreeShape)
    {
        var cpus = 1 + _random.Next(_options.MaxCpus);
        cpus = pins.Cpus ?? cpus;
        var limited = Chance(_options.FrameLimit);
        var limit = 1 + _random.Next(1 + _random.Next(_options.MaxFrames)); // small limits more often
        var frames = pins.Frames ?? (limited && !(raceFreeShape && cpus > 1) ? limit : 0);
        var policy = Policies[_random.Next(Policies.Length)];
        var zeroPage = _random.Next(2) == 0;
        var entriesLog = _random.Next(7);
        var entries = 1 << entriesLog;
        var ways = 1 << _random.Next(entriesLog + 1);
        if (pins.TlbEntries is { } pinnedEntries)
        {
            entries = pinnedEntries;
            while (ways > 1 && entries % ways != 0)
                ways >>= 1;
        }
        if (pins.TlbWays is { } pinnedWays)
        {
            ways = pinnedWays;
            if (pins.TlbEntries is null && (ways & (ways - 1)) == 0)
                entries = Math.Max(entries, ways);
        }
        var shootdown = Shootdowns[_random.Next(Shootdowns.Length)];
        var quantum = Quanta[_random.Next(Quanta.Length)];
        var jitter = _random.Next(5) == 0 ? 0 : Math.Round(_random.NextDouble() * _options.MaxJitter, 2);
        var crashes = Chance(_options.Crashes);
        var crashRate = Math.Round(_random.NextDouble() * _options.MaxCrashRate, 2);
        var errors = Chance(_options.DiskErrors);
        var errorRate = Math.Round(_random.NextDouble() * _options.MaxReadErrorRate, 3);
        return new SwarmKnobs(cpus, frames, pins.Policy ?? policy, pins.ZeroPage ?? zeroPage, entries, ways, pins.Shootdown ?? shootdown,
            pins.Quantum ?? quantum, pins.Jitter ?? jitter,
            pins.CrashRate ?? (crashes && !raceFreeShape ? crashRate : 0),
            pins.ReadErrorRate ?? (errors && !raceFreeShape ? errorRate : 0));
    }

    /// <summary>The regions a starting process has: the first anonymous, the rest of any kind the draw has.</summary>
    private List<SwarmRegion> StartingRegions(int tree, bool raceFreeShape)
    {
        var regions = new List<SwarmRegion>();
        var count = 1 + _random.Next(_options.MaxRegions);
        for (var i = 0; i < count; i++)
        {
            var kinds = RegionKinds(tree, raceFreeShape, stack: !regions.Any(r => r.Kind == SwarmRegionKind.Stack));
            var kind = i == 0 ? SwarmRegionKind.Anonymous : kinds[_random.Next(kinds.Count)];
            regions.Add(NewRegion($"r{_slots}", kind, tree, raceFreeShape));
        }
        return regions;
    }

    /// <summary>The kinds of region a process of <paramref name="tree"/> may have: files only those it may map.</summary>
    public List<SwarmRegionKind> RegionKinds(int tree, bool raceFreeShape, bool stack)
    {
        var kinds = new List<SwarmRegionKind> { SwarmRegionKind.Anonymous };
        if (FilesFor(tree, raceFreeShape).Count > 0)
        {
            kinds.Add(SwarmRegionKind.FilePrivate);
            if (Has(SwarmFeature.SharedFiles))
                kinds.Add(SwarmRegionKind.FileShared);
        }
        if (Has(SwarmFeature.SharedAnonymous))
            kinds.Add(SwarmRegionKind.SharedAnonymous);
        if (stack && Has(SwarmFeature.Stacks))
            kinds.Add(SwarmRegionKind.Stack);
        return kinds;
    }

    /// <summary>A region of <paramref name="kind"/> in a slot of its own (16 MiB apart: a stack sits halfway up, to grow below).</summary>
    public SwarmRegion NewRegion(string name, SwarmRegionKind kind, int tree, bool raceFreeShape)
    {
        var slot = 0x1000_0000UL + (ulong)_slots++ * 0x100_0000UL;
        var pages = 1 + _random.Next(_options.MaxPages);
        string? file = null;
        ulong offset = 0;
        if (kind is SwarmRegionKind.FilePrivate or SwarmRegionKind.FileShared)
        {
            var candidates = FilesFor(tree, raceFreeShape);
            var chosen = candidates[_random.Next(candidates.Count)];
            (file, offset) = (chosen.Name, _random.Next(2) == 0 ? 0 : (ulong)_random.Next(chosen.Pages) * 4096);
            if (!_fileTrees.TryGetValue(chosen.Name, out var trees))
                _fileTrees[chosen.Name] = trees = [];
            trees.Add(tree);
        }
        var prot = kind switch
        {
            SwarmRegionKind.Anonymous => Pick(("rw", 7), ("r", 1), ("rx", 1), ("rwx", 1)),
            SwarmRegionKind.FilePrivate => Pick(("rw", 5), ("r", 2), ("rx", 3)),
            SwarmRegionKind.FileShared => Pick(("rw", 7), ("r", 3)),
            _ => "rw",
        };
        return new SwarmRegion(name, kind, kind == SwarmRegionKind.Stack ? slot + 0x80_0000UL : slot, pages, prot, file, offset);
    }

    private List<SwarmFile> FilesFor(int tree, bool raceFreeShape) =>
        [.. _files.Where(f => !raceFreeShape || _fileOwners[f.Name] == tree)];

    /// <summary>How many script lines a CPU has in each phase.</summary>
    private int[] LinesPerPhase(int phases)
    {
        var counts = new int[phases];
        var lines = 1 + _random.Next(_options.MaxLines);
        for (var i = 0; i < lines; i++)
            counts[_random.Next(phases)]++;
        return counts;
    }

    /// <summary>One CPU's lines of one phase: which process it runs, then what it does.</summary>
    private void Segment(CpuDraw cpu, int phase, bool raceFreeShape)
    {
        var lines = cpu.LinesPerPhase[phase];
        if (lines == 0)
            return;
        var candidates = _processes.Where(p => p.BornInPhase < phase && (!raceFreeShape || p.Tree == cpu.Cpu)).ToList();
        if (cpu.Process is null || !candidates.Contains(cpu.Process) || _random.Next(10) >= 6)
            Switch(cpu, candidates[_random.Next(candidates.Count)]);
        new SwarmSegment(this, cpu, phase, raceFreeShape).Write(lines);
        if (_lockOps && cpu.Lines[^1] != "exit" && _locks.Next(3) == 0)
            cpu.Lines.Add(LockLine(cpu.Known[_locks.Next(cpu.Known.Count)]));
    }

    /// <summary>An mlock, munlock or mremap of <paramref name="region"/> (its whole, or some of its pages), from the lock stream.</summary>
    private string LockLine(SwarmRegion region)
    {
        var first = _locks.Next(region.Pages);
        var range = _locks.Next(2) == 0 ? region.Name : $"{region.Name}+0x{(ulong)first * 4096:x} {(ulong)(1 + _locks.Next(region.Pages - first)) * 4096}";
        return _locks.Next(4) switch
        {
            0 or 1 => $"mlock {range}",
            2 => $"munlock {range}",
            _ => $"mremap {region.Name} {(ulong)(1 + _locks.Next(2 * _options.MaxPages)) * 4096}{(_locks.Next(2) == 0 ? " maymove" : "")}",
        };
    }

    /// <summary>The CPU runs <paramref name="process"/> from here on.</summary>
    public void Switch(CpuDraw cpu, SwarmProcess process)
    {
        if (cpu.Process == process)
            return;
        cpu.Lines.Add($"run {process.Name}");
        cpu.Process = process;
        cpu.Known = [.. process.Known];
        cpu.Ran = true;
        if (!_treeCpus.TryGetValue(process.Tree, out var set))
            _treeCpus[process.Tree] = set = [];
        set.Add(cpu.Cpu);
    }

    /// <summary>A child forked by the process <paramref name="cpu"/> runs, knowing the regions it knows now; null when the draw has forked enough.</summary>
    public SwarmProcess? Fork(CpuDraw cpu, int phase)
    {
        if (_forks >= _options.MaxForks)
            return null;
        var child = new SwarmProcess($"c{_forks++}", cpu.Process!.Tree, [.. cpu.Known], phase);
        _processes.Add(child);
        return child;
    }

    /// <summary>The name of the next region a script maps.</summary>
    public string NextMappedName() => $"m{_mapped++}";

    public bool Has(SwarmFeature feature) => _features.Contains(feature);

    public SimRandom Random => _random;

    public SwarmOptions Options => _options;

    public bool Chance(double probability) => _random.NextDouble() < probability;

    public string Pick(params (string Value, int Weight)[] choices)
    {
        var roll = _random.Next(choices.Sum(c => c.Weight));
        foreach (var (value, weight) in choices)
        {
            if ((roll -= weight) < 0)
                return value;
        }
        return choices[^1].Value;
    }
}

/// <summary>What a draw may leave out, each kind on or off per draw (swarm testing).</summary>
public enum SwarmFeature
{
    Fetches,
    SysReads,
    SysWrites,
    Mmaps,
    Munmaps,
    Mprotects,
    DontNeeds,
    PageOuts,
    Forks,
    Exits,
    StackGrowth,
    ExplicitStores,
    BadAccesses,
    FileRegions,
    SharedFiles,
    SharedAnonymous,
    Stacks,
    /// <summary>madvise normal, sequential, random and willneed: the readahead of file regions.</summary>
    ReadAdvice,
}

/// <summary>One CPU's script as it is drawn: its lines, the process it runs and the regions it surely knows.</summary>
public sealed class CpuDraw(int cpu, int[] linesPerPhase)
{
    public int Cpu { get; } = cpu;
    public int[] LinesPerPhase { get; } = linesPerPhase;
    public List<string> Lines { get; } = [];
    public SwarmProcess? Process { get; set; }
    public List<SwarmRegion> Known { get; set; } = [];
    /// <summary>Whether the script runs a process at all (a CPU that never does has no script).</summary>
    public bool Ran { get; set; }
}

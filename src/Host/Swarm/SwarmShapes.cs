using System.Globalization;
using Faultsim.Model.Common;

namespace Faultsim.Host.Swarm;

/// <summary>
/// The shapes a racy draw may take besides its general lines: races whose window is one message or one page copy
/// wide, which a draw of independent lines almost never lines up. Each is put in front of the scripts of the CPUs it
/// picks (their general lines follow), over a region (and file) of its own in the first process, with the latencies
/// that open its window; its barriers name only its own CPUs. Every choice comes from a random stream of the shapes'
/// own, so a draw without a shape is, line for line, the draw it was before shapes existed.
/// <list type="bullet">
/// <item>cow-threads: threads of one process on three CPUs around a fork and a COW break — a writer breaks COW on a
/// page, a second thread writes its word of the new page, a third reads that word again and again through the
/// translation to the old frame it cached after the fork (go-34988, cow-publish).</item>
/// <item>late-faults: threads of one process on two or more CPUs fault one page of a private file mapping — one writes
/// it at once (a disk read, then a private copy), the others after different amounts of work of their own, on a fast
/// disk, so that one may reach the page's loader after the read completed and before the install (late-follower).</item>
/// </list>
/// </summary>
internal sealed class SwarmShapes
{
    private const ulong Stream = 0x5a4e_5e7a_b1e5UL;
    private static readonly string[] TlbHits = ["1ns", "20ns", "50ns", "200ns"];
    private static readonly string[] Ipis = ["2us", "5us", "20us"];
    private static readonly int[] DiskMicros = [5, 10, 20, 40];

    private readonly SimRandom _random;
    private readonly bool _cowThreads;
    private readonly bool _lateFaults;

    public SwarmShapes(ulong seed, SwarmOptions options)
    {
        _random = new SimRandom(seed ^ Stream);
        _cowThreads = _random.NextDouble() < options.CowThreads;
        _lateFaults = _random.NextDouble() < options.LateFaults;
    }

    /// <summary>
    /// Puts the drawn shapes in front of the scripts of <paramref name="cpus"/>; their regions go to <paramref name="process"/>
    /// (a starting process, run by every CPU of a shape), their files to <paramref name="files"/>, their latencies to
    /// <paramref name="settings"/>. cow-threads forks a child of its own (never run) unless <paramref name="forks"/> is false
    /// (max-forks = 0); a shape needs three CPUs (cow-threads) or two (late-faults). Returns the shapes put in.
    /// </summary>
    public List<string> Apply(IReadOnlyList<CpuDraw> cpus, SwarmProcess process, List<SwarmRegion> regions, List<SwarmFile> files,
        Func<int> slot, bool forks, List<(string Key, string Value)> settings)
    {
        var applied = new List<string>();
        if (_cowThreads && cpus.Count >= 3 && forks)
        {
            var at = slot();
            CowThreads(cpus, process, regions, at, $"t{at}", settings);
            applied.Add("cow-threads");
        }
        if (_lateFaults && cpus.Count >= 2)
        {
            LateFaults(cpus, process, regions, files, slot(), slot(), settings);
            applied.Add("late-faults");
        }
        return applied;
    }

    /// <summary>Writer A breaks COW on page P after the fork; B writes its word of the new page; C keeps reading B's word.</summary>
    private void CowThreads(IReadOnlyList<CpuDraw> cpus, SwarmProcess process, List<SwarmRegion> regions, int slot, string child,
        List<(string Key, string Value)> settings)
    {
        var pages = 1 + _random.Next(4);
        var region = new SwarmRegion($"r{slot}", SwarmRegionKind.Anonymous, Start(slot), pages, "rw", null, 0);
        regions.Add(region);
        var picked = Pick(cpus.Count, 3);
        var (a, b, c) = (cpus[picked[0]], cpus[picked[1]], cpus[picked[2]]);
        var page = _random.Next(pages);
        var at = $"{region.Name}:{page}";
        var word = $"{region.Name}+0x{(ulong)page * 4096 + (ulong)(b.Cpu % 8) * 8:x}";
        var cached = _random.Next(4) > 0; // C caches the old translation before the break, surely (or by the race)
        var name = $"s{slot}";

        var lineA = new List<string> { $"run {process.Name}", $"store {at}", $"fork {child}", $"barrier {name}_forked" };
        if (cached)
            lineA.Add($"barrier {name}_cached");
        lineA.Add($"store {at}");

        var lineB = new List<string> { $"run {process.Name}" };
        if (_random.Next(2) == 0)
            lineB.Add($"store {at}"); // B's old word in the old frame
        lineB.Add($"barrier {name}_forked");
        if (cached)
            lineB.Add($"barrier {name}_cached");
        for (var i = _random.Next(3); i > 0; i--)
            lineB.Add($"load {region.Name}:{_random.Next(pages)}"); // a little work before B's store
        lineB.Add($"store {at}");

        var lineC = new List<string> { $"run {process.Name}", $"barrier {name}_forked", $"load {word}" };
        if (cached)
            lineC.Add($"barrier {name}_cached");
        for (var i = 16 + _random.Next(81); i > 0; i--)
            lineC.Add($"load {word}");

        Prepend(a, process, lineA);
        Prepend(b, process, lineB);
        Prepend(c, process, lineC);
        settings.Add(("latency.tlb-hit", TlbHits[_random.Next(TlbHits.Length)]));
        settings.Add(("latency.ipi", Ipis[_random.Next(Ipis.Length)]));
    }

    /// <summary>One CPU writes page 0 of a private file mapping at once; the others fault it after some demand-zero faults of their own.</summary>
    private void LateFaults(IReadOnlyList<CpuDraw> cpus, SwarmProcess process, List<SwarmRegion> regions, List<SwarmFile> files,
        int dataSlot, int scratchSlot, List<(string Key, string Value)> settings)
    {
        var file = new SwarmFile($"f{files.Count}", 4096);
        files.Add(file);
        var data = new SwarmRegion($"r{dataSlot}", SwarmRegionKind.FilePrivate, Start(dataSlot), 1, "rw", file.Name, 0);
        var micros = DiskMicros[_random.Next(DiskMicros.Length)];
        var spread = Math.Max(2, micros * 5 / 8);  // demand-zero faults (about 1.6us each) that span the disk's latency
        var count = 2 + _random.Next(cpus.Count - 1);
        var picked = Pick(cpus.Count, count);
        var scratch = new SwarmRegion($"r{scratchSlot}", SwarmRegionKind.Anonymous, Start(scratchSlot), count * 2 * spread, "rw", null, 0);
        regions.Add(data);
        regions.Add(scratch);
        for (var i = 0; i < count; i++)
        {
            var lines = new List<string> { $"run {process.Name}" };
            if (i > 0)
            {
                var work = spread / 2 + _random.Next(spread + 1);
                if (work > 0)
                    lines.Add($"store {scratch.Name}:{i * 2 * spread}..{i * 2 * spread + work - 1}");
            }
            lines.Add($"{(i == 0 || _random.Next(3) > 0 ? "store" : "load")} {data.Name}:0");
            Prepend(cpus[picked[i]], process, lines);
        }
        settings.Add(("machine.disk.latency", string.Create(CultureInfo.InvariantCulture, $"{micros}us")));
    }

    /// <summary><paramref name="lines"/> before the CPU's own; the CPU's own start again with its run line, if it had one.</summary>
    private static void Prepend(CpuDraw cpu, SwarmProcess process, List<string> lines)
    {
        if (cpu.Ran && cpu.Lines.Count > 0 && cpu.Lines[0] == $"run {process.Name}")
            cpu.Lines.RemoveAt(0); // the shape's run line is the CPU's own
        cpu.Lines.InsertRange(0, lines);
        cpu.Ran = true;
    }

    /// <summary><paramref name="count"/> distinct CPUs of <paramref name="cpus"/>, in a random order.</summary>
    private int[] Pick(int cpus, int count)
    {
        var all = Enumerable.Range(0, cpus).ToArray();
        for (var i = 0; i < count; i++)
        {
            var j = i + _random.Next(cpus - i);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all[..count];
    }

    private static ulong Start(int slot) => 0x1000_0000UL + (ulong)slot * 0x100_0000UL;
}

using System.Globalization;
using System.Text;
using Faultsim.Host.Scenarios;

namespace Faultsim.Host.Swarm;

/// <summary>
/// Writes a draw as a scenario file — the HOCON of config/scenarios — so that a draw and a scenario file are one format:
/// the file, loaded over the embedded default, is the draw's run (seed included).
/// </summary>
public static class SwarmText
{
    public static SwarmDraw Of(SwarmWorld world)
    {
        var k = world.Knobs;
        var lines = world.Scripts.Values.Sum(s => s.Count(l => !l.StartsWith("run ", StringComparison.Ordinal) && !l.StartsWith("barrier ", StringComparison.Ordinal)));
        var frames = k.Frames == 0 ? "no frame limit" : $"{Count(k.Frames, "frame")} ({k.Policy})";
        var chaos = (k.CrashRate > 0 ? Invariant($", loader crashes {k.CrashRate}") : "")
                    + (k.ReadErrorRate > 0 ? Invariant($", disk read errors {k.ReadErrorRate}") : "");
        var summary = $"{Count(world.Scripts.Count, "CPU")} of {k.Cpus}, {Count(world.Roots.Count, "process", "processes")} and {Count(world.Forks.Count, "fork")}, "
                      + $"{Count(world.Regions, "region")}, {Count(lines, "script line")} in {Count(world.Phases, "phase")}; "
                      + $"{frames}, {k.Shootdown} shootdowns{chaos}; {(world.Shapes.Count > 0 ? $"shaped {string.Join(" and ", world.Shapes)}; " : "")}{(world.RaceFree ? "race-free: held to the reference machine" : "racy")}";
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"# The swarm draw of seed {world.Seed} (faultsim explore --swarm): {summary}.");
        s.AppendLine(CultureInfo.InvariantCulture, $"# It runs as the draw does: faultsim replay --scenario THIS-FILE --seed {world.Seed}");
        s.AppendLine("faultsim {");
        s.AppendLine(CultureInfo.InvariantCulture, $"  seed = {world.Seed}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  scenario.description = \"swarm draw of seed {world.Seed}: {summary}\"");
        s.AppendLine(CultureInfo.InvariantCulture, $"  shootdown = {k.Shootdown}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  actors.quantum = {k.Quantum}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  latency.jitter = {k.Jitter}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  chaos.loader-crash-rate = {k.CrashRate}");
        foreach (var (key, value) in world.Settings)
            s.AppendLine(CultureInfo.InvariantCulture, $"  {key} = {value}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  checks.counts-match-reference = {(world.RaceFree ? "on" : "off")}");
        s.AppendLine("  machine {");
        s.AppendLine(CultureInfo.InvariantCulture, $"    cpus = {k.Cpus}");
        s.AppendLine(CultureInfo.InvariantCulture, $"    frames = {k.Frames}");
        s.AppendLine(CultureInfo.InvariantCulture, $"    policy = {k.Policy}");
        s.AppendLine(CultureInfo.InvariantCulture, $"    zero-page = {(k.ZeroPage ? "on" : "off")}");
        s.AppendLine(CultureInfo.InvariantCulture, $"    tlb {{ entries = {k.TlbEntries}, ways = {k.TlbWays} }}");
        s.AppendLine(CultureInfo.InvariantCulture, $"    disk.read-error-rate = {k.ReadErrorRate}");
        s.AppendLine("  }");
        s.AppendLine("  workload {");
        if (world.Files.Count > 0)
        {
            s.AppendLine("    files {");
            foreach (var file in world.Files)
                s.AppendLine(CultureInfo.InvariantCulture, $"      {file.Name} {{ size = {file.Size} }}");
            s.AppendLine("    }");
        }
        s.AppendLine("    processes {");
        foreach (var process in world.Roots)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"      {process.Name} {{ regions {{");
            foreach (var region in process.Known)
                s.AppendLine(CultureInfo.InvariantCulture, $"        {region.Name} {{ {Region(region)} }}");
            s.AppendLine("      } }");
        }
        s.AppendLine("    }");
        ScenarioText.AppendScripts(s, world.Scripts);
        s.AppendLine("  }");
        s.AppendLine("}");
        return new SwarmDraw(world.Seed, s.ToString(), world.RaceFree, summary);
    }

    private static string Region(SwarmRegion r)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"start = 0x{r.Start:x}, size = {r.Pages * 4}K, prot = {r.Prot}");
        if (r.File is { } file)
            text += r.Offset == 0 ? $", file = {file}" : string.Create(CultureInfo.InvariantCulture, $", file = {file}, offset = 0x{r.Offset:x}");
        if (r.Shared)
            text += ", shared = on";
        if (r.Kind == SwarmRegionKind.Stack)
            text += ", grows-down = on";
        return text;
    }

    private static string Count(int n, string one, string? many = null) =>
        Invariant($"{n} {(n == 1 ? one : many ?? one + "s")}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

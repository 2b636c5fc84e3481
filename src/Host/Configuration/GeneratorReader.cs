using System.Collections.Immutable;
using Faultsim.Model.Workloads;
using Faultsim.Model.Workloads.Generators;

namespace Faultsim.Host.Configuration;

/// <summary>
/// Reads faultsim.workload.generator — a workload made by <see cref="WorkloadGenerator"/> instead of files, processes
/// and scripts — every key optional, with the default of <see cref="GeneratorSpec.Defaults"/>; a bad value names its line.
/// </summary>
internal static class GeneratorReader
{
    public const string Section = "generator";

    /// <summary>The keys of the section (mix is a section of weights by kind).</summary>
    public static readonly IReadOnlyList<string> Keys =
    [
        "kind", "accesses", "pages", "stride", "theta", "write-fraction", "rounds", "processes", "map-pages", "backing", "cache", "mix",
    ];

    public static Workload Read(ConfigReader workload, MachineSpec machine, ulong seed)
    {
        foreach (var other in new[] { "files", "processes", "cpus" }.Where(workload.Has))
            throw workload.Error(other, $"is set beside {ConfigSchema.WorkloadPath}.{Section}, which makes the whole workload; drop one of them");
        var g = workload.Section(Section);
        var d = GeneratorSpec.Defaults;
        if (!g.Has("kind"))
            throw workload.Error(Section, $"has no kind; say which workload to generate: {string.Join(", ", GeneratorKinds.Names)}");
        var kind = GeneratorKinds.Parse(g.Choice("kind", [.. GeneratorKinds.Names]));
        var spec = new GeneratorSpec(
            kind,
            g.Has("accesses") ? g.Count("accesses", 1, long.MaxValue / 2) : d.Accesses,
            g.Has("pages") ? g.Int("pages", 1, 1 << 24) : d.Pages,
            g.Has("stride") ? g.Int("stride", 1, 1 << 24) : d.Stride,
            g.Has("theta") ? g.Number("theta", 0, 10) : d.Theta,
            g.Has("write-fraction") ? g.Fraction("write-fraction") : d.WriteFraction,
            g.Has("rounds") ? g.Int("rounds", 1, 1 << 20) : d.Rounds,
            g.Has("processes") ? g.Int("processes", 1, 4096) : d.Processes,
            g.Has("map-pages") ? g.Int("map-pages", 1, 1 << 16) : d.MapPages,
            !g.Has("backing") || g.Choice("backing", "file", "anon") == "file",
            g.Has("cache") && g.Choice("cache", "cold", "warm") == "warm",
            g.Has("mix") ? Mix(g) : d.Mix);
        bool Uses(GeneratorKind k) => kind == k || (kind == GeneratorKind.Mix && spec.Mix.Any(m => m.Kind == k && m.Weight > 0));
        if (kind == GeneratorKind.Mix && spec.Mix.Sum(m => m.Weight) <= 0)
            throw g.Error("mix", $"weighs nothing; give at least one of {string.Join(", ", GeneratorKinds.Mixable.Select(k => k.Name()))} a weight above 0");
        if (Uses(GeneratorKind.Stack) && (ulong)spec.Pages * 4096 > machine.Stack.Limit)
            throw g.Error("pages", $"is {spec.Pages}: a stack that deep passes machine.stack.limit ({machine.Stack.Limit / 1024}K); use at most {machine.Stack.Limit / 4096} pages");
        if (Uses(GeneratorKind.Strided) && spec.Stride > spec.Pages)
            throw g.Error("stride", $"is {spec.Stride}, more than the region's {spec.Pages} pages; use a stride from 1 to pages");
        return WorkloadGenerator.Generate(spec, machine, seed, g.ValueLine("kind"));
    }

    private static ImmutableArray<(GeneratorKind, double)> Mix(ConfigReader g)
    {
        var names = GeneratorKinds.Mixable.Select(k => k.Name()).ToArray();
        foreach (var name in g.Names("mix").Where(n => !names.Contains(n)))
            throw g.Error($"mix.{name}", $"is not a kind a mix takes; weigh {string.Join(", ", names)}");
        return [.. GeneratorKinds.Mixable.Select(k => (k, g.Has($"mix.{k.Name()}") ? g.Number($"mix.{k.Name()}", 0, 1e6) : 0))];
    }
}

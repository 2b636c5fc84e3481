using System.Collections.Immutable;

namespace Faultsim.Model.Workloads.Generators;

/// <summary>The workloads <see cref="WorkloadGenerator"/> makes (faultsim.workload.generator.kind).</summary>
public enum GeneratorKind
{
    /// <summary>Each CPU scans the region page after page, wrapping at its end.</summary>
    Sequential,
    /// <summary>Each CPU visits every stride-th page, then the pages one further on, until every page is visited; then again.</summary>
    Strided,
    /// <summary>Each access goes to a page drawn uniformly from the region.</summary>
    Uniform,
    /// <summary>Each access goes to a page drawn from a Zipf distribution of skew theta: page 0 is the hottest.</summary>
    Zipf,
    /// <summary>Every CPU touches the same page at once, round after round (a barrier before each round).</summary>
    Herd,
    /// <summary>A parent fills a region, forks children, and every child writes every page: a copy-on-write break each.</summary>
    CowStorm,
    /// <summary>Every CPU, a thread of one process, maps a small region, writes it and unmaps it, round after round.</summary>
    Churn,
    /// <summary>Each CPU runs a process whose stack grows page by page, with accesses to the pages already grown between.</summary>
    Stack,
    /// <summary>Every CPU reads a file through a private mapping, its pages not yet cached (cold) or read once before (warm).</summary>
    FileRead,
    /// <summary>
    /// Each draw one unit of a kind chosen by weight: an access of an access pattern, of the stack or of the file reads, a
    /// round of the herd or the churn, a fork round of the COW storm (<see cref="MixedWorkload"/>).
    /// </summary>
    Mix,
}

/// <summary>The kinds' names, and which a <see cref="GeneratorKind.Mix"/> mixes.</summary>
public static class GeneratorKinds
{
    /// <summary>The access patterns: each a page of one region per access.</summary>
    public static readonly ImmutableArray<GeneratorKind> Patterns = [GeneratorKind.Sequential, GeneratorKind.Strided, GeneratorKind.Uniform, GeneratorKind.Zipf];

    /// <summary>What a mix mixes: every kind but the mix.</summary>
    public static readonly ImmutableArray<GeneratorKind> Mixable = [.. Enum.GetValues<GeneratorKind>().Where(k => k != GeneratorKind.Mix)];

    public static bool IsPattern(GeneratorKind kind) => Patterns.Contains(kind);

    /// <summary>The kind's name in the config (cow-storm, file-read, …).</summary>
    public static string Name(this GeneratorKind kind) => kind switch
    {
        GeneratorKind.CowStorm => "cow-storm",
        GeneratorKind.FileRead => "file-read",
        _ => kind.ToString().ToLowerInvariant(),
    };

    public static readonly ImmutableArray<string> Names = [.. Enum.GetValues<GeneratorKind>().Select(Name)];

    public static GeneratorKind Parse(string name) => Enum.GetValues<GeneratorKind>().First(k => k.Name() == name);
}

/// <summary>
/// What a generated workload is (faultsim.workload.generator): its kind and sizes. Every key has a default, given here
/// and in config/faultsim.conf; <see cref="Defaults"/> holds them.
/// </summary>
/// <param name="Accesses">Accesses per CPU of the access patterns, the stack and the file reads.</param>
/// <param name="Pages">Pages of the region the access patterns, the COW storm and the file reads use; the deepest the stack grows.</param>
/// <param name="Stride">Pages between two accesses of a strided scan.</param>
/// <param name="Theta">Zipf's skew: 0 is uniform, 1 the classic 1/rank; larger is hotter.</param>
/// <param name="WriteFraction">The share of accesses that are stores (access patterns, the stack's revisits).</param>
/// <param name="Rounds">Rounds of a herd (one page each) and of a churn (one mmap, write, munmap each).</param>
/// <param name="Processes">Children a COW storm forks.</param>
/// <param name="MapPages">Pages of each region a churn maps.</param>
/// <param name="FileBacked">A herd's page: a file page (a major fault, one disk read) or anonymous (a store, demand-zero).</param>
/// <param name="WarmCache">File reads: whether the file's pages are in the page cache before the readers start.</param>
/// <param name="Mix">The weight of each kind of a mix (the rest weigh 0).</param>
public sealed record GeneratorSpec(
    GeneratorKind Kind, long Accesses, int Pages, int Stride, double Theta, double WriteFraction, int Rounds, int Processes,
    int MapPages, bool FileBacked, bool WarmCache, ImmutableArray<(GeneratorKind Kind, double Weight)> Mix)
{
    public static readonly GeneratorSpec Defaults = new(GeneratorKind.Uniform, 10_000, 256, 8, 0.99, 0.25, 64, 4, 4, true, false,
        [(GeneratorKind.Sequential, 1), (GeneratorKind.Uniform, 1), (GeneratorKind.Zipf, 2)]);
}

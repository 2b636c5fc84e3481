using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;

namespace Faultsim.Model.Checking;

/// <summary>One way two runs of a workload differ: where (a process, the run, its memory), which figure, and both values.</summary>
public sealed record RunDifference(string Where, string Figure, string Description)
{
    public override string ToString() => Description;
}

/// <summary>
/// Holds a run against another run of the same workload — the actor engine's against the reference machine's, for
/// invariant 6 — figure by figure: every figure a run reports for each process (under its name in the JSON output),
/// each process's fate, a process that is in one run only (either one), the run's own figures, and the final memory.
/// </summary>
public static class RunComparison
{
    /// <summary>A figure of one process: its name in the JSON output, and how to read it from the process's counters.</summary>
    public sealed record Figure(string Name, Func<Counters, long> Of);

    /// <summary>Every counted figure of a process (the JSON's sums, such as faults.total or faults.cow, follow from these).</summary>
    public static readonly ImmutableArray<Figure> ProcessFigures =
    [
        .. Enum.GetValues<ResolutionKind>().Select(kind => new Figure($"faults.by_resolution.{kind.Name()}", c => c[kind])),
        new("faults.minor", c => c.Minor),
        new("faults.major", c => c.Major),
        new("tlb.shootdowns", c => c.Shootdowns),
        new("ipis", c => c.Ipis),
        new("syscall_errors", c => c.SyscallErrors),
        new("pages.zeroed", c => c.PagesZeroed),
        new("pages.copied", c => c.PagesCopied),
        new("pages.evicted", c => c.PagesEvicted),
        new("disk.reads", c => c.DiskReads),
        new("disk.writes", c => c.DiskWrites),
        new("tlb.hits", c => c.TlbHits),
        new("tlb.misses", c => c.TlbMisses),
        new("accesses", c => c.Accesses),
    ];

    /// <summary>The figures that are not counters: a process present in both runs, its fate, the run's own, the memory.</summary>
    public const string Process = "process", Fate = "fate", NeverStarted = "never_started", Panic = "panic", Steps = "steps", Memory = "memory";

    /// <summary>Every figure, in the order <see cref="Differences"/> compares them (per process, then the run's, then memory).</summary>
    public static readonly ImmutableArray<string> AllFigures =
        [Process, .. ProcessFigures.Select(f => f.Name), Fate, NeverStarted, Panic, Steps, Memory];

    /// <summary>
    /// The figures a loader's crash (faultsim.chaos.loader-crash-rate, the actors' fault injection, which the reference
    /// machine has not) leaves as they are: the faults it interrupts are retried, which walks the page tables again.
    /// </summary>
    public static readonly IReadOnlySet<string> UnaffectedByLoaderCrashes =
        AllFigures.Except(["tlb.hits", "tlb.misses"]).ToHashSet();

    /// <summary>
    /// Every difference of <paramref name="actual"/> from <paramref name="reference"/> among <paramref name="figures"/>
    /// (all by default), in order: processes in one run only, then each process's figures and fate (in pid order),
    /// then the run's figures, then the final memory. A process is the same in both runs when its pid and name are.
    /// </summary>
    public static IEnumerable<RunDifference> Differences(RunResult actual, RunResult reference, IReadOnlySet<string>? figures = null)
    {
        bool Compared(string figure) => figures is null || figures.Contains(figure);
        string In(RunResult run) => $"in the {run.Engine} run";
        RunDifference Differs(string where, string figure, object a, object r) =>
            new(where, figure, $"{where}: {figure} is {a} {In(actual)}, {r} {In(reference)}");

        var theirs = reference.Processes.ToDictionary(Key);
        var mine = actual.Processes.ToDictionary(Key);
        if (Compared(Process))
        {
            foreach (var p in actual.Processes.Where(p => !theirs.ContainsKey(Key(p))))
                yield return new(Label(p), Process, $"{Label(p)}: present {In(actual)} ({p.Fate}), absent {In(reference)}");
            foreach (var p in reference.Processes.Where(p => !mine.ContainsKey(Key(p))))
                yield return new(Label(p), Process, $"{Label(p)}: absent {In(actual)}, present {In(reference)} ({p.Fate})");
        }
        foreach (var r in reference.Processes.Where(p => mine.ContainsKey(Key(p))).OrderBy(p => p.Pid.Value))
        {
            var a = mine[Key(r)];
            foreach (var figure in ProcessFigures.Where(f => Compared(f.Name)))
            {
                if (figure.Of(a.Counters) != figure.Of(r.Counters))
                    yield return Differs(Label(r), figure.Name, figure.Of(a.Counters), figure.Of(r.Counters));
            }
            if (Compared(Fate) && a.Fate != r.Fate)
                yield return Differs(Label(r), Fate, a.Fate, r.Fate);
        }
        if (Compared(NeverStarted) && !actual.NeverStarted.SequenceEqual(reference.NeverStarted))
            yield return Differs("the run", NeverStarted, $"[{string.Join(", ", actual.NeverStarted)}]", $"[{string.Join(", ", reference.NeverStarted)}]");
        if (Compared(Panic) && actual.Panic != reference.Panic)
            yield return Differs("the run", Panic, Quoted(actual.Panic), Quoted(reference.Panic));
        if (Compared(Steps) && actual.Steps != reference.Steps)
            yield return Differs("the run", Steps, actual.Steps, reference.Steps);
        if (Compared(Memory) && MemoryDifference(actual.Memory, reference.Memory) is { } memory)
            yield return new("the final memory", Memory, $"the final memory differs between the {actual.Engine} and {reference.Engine} runs: {memory}");
    }

    /// <summary>The first difference among <paramref name="figures"/> (all by default), or null when the runs agree on them.</summary>
    public static RunDifference? FirstDifference(RunResult actual, RunResult reference, IReadOnlySet<string>? figures = null) =>
        Differences(actual, reference, figures).FirstOrDefault();

    private static (ProcessId, string) Key(ProcessReport p) => (p.Pid, p.Name);

    private static string Label(ProcessReport p) => $"{p.Name} ({p.Pid})";

    private static string Quoted(string? text) => text is null ? "none" : $"\"{text}\"";

    private static string? MemoryDifference(MemoryImage? actual, MemoryImage? reference) => (actual, reference) switch
    {
        (null, null) => null,
        (null, _) => "no image against one",
        (_, null) => "an image against none",
        var (a, r) => a.FirstDifference(r),
    };
}

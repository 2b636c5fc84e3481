using System.Globalization;
using Faultsim.Model.Addressing;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Running;

/// <summary>
/// A bound on the messages one deterministic run may deliver, with the config key that set it: reaching it stops
/// the run before it finished (exit 3), which says nothing about the invariants.
/// </summary>
/// <param name="Steps">Mailbox runs (one message each) the run may take.</param>
/// <param name="Key">The config key that sets it, named in the message with how to raise it.</param>
/// <param name="Basis">How the bound was derived, when the key left it to faultsim (explore's auto).</param>
public sealed record StepLimit(long Steps, string Key, string? Basis = null)
{
    /// <summary>What `run` and `replay` print when a run reached the limit.</summary>
    public string Message =>
        $"stopped at a limit before the run finished: {Steps.ToString("N0", CultureInfo.InvariantCulture)} messages " +
        $"({Key}{(Basis is null ? "" : ", " + Basis)}); raise it with --set {Key["faultsim.".Length..]}=N" +
        (Key == RunKey ? " or turn it off with --set max-steps=off" : "");

    /// <summary>The key of the limit of `run` and `replay` (off by default).</summary>
    public const string RunKey = "faultsim.max-steps";

    /// <summary>The key of the limit of each run of `explore` (auto by default).</summary>
    public const string ExploreKey = "faultsim.explore.max-steps";

    /// <summary>Messages explore's auto limit allows per unit of script size.</summary>
    public const long AutoStepsPerUnit = 1_000;

    /// <summary>The least explore's auto limit allows, however small the scripts.</summary>
    public const long AutoFloor = 100_000;

    /// <summary>
    /// Explore's automatic limit: <see cref="AutoStepsPerUnit"/> messages per unit of the workload's
    /// <see cref="ScriptSize"/>, and never less than <see cref="AutoFloor"/>.
    /// </summary>
    public static StepLimit Auto(Workload workload)
    {
        var size = ScriptSize(workload);
        var steps = Math.Max(AutoFloor, size > long.MaxValue / AutoStepsPerUnit ? long.MaxValue : size * AutoStepsPerUnit);
        return new StepLimit(steps, ExploreKey,
            $"auto: {AutoStepsPerUnit.ToString("N0", CultureInfo.InvariantCulture)} × a script size of {size.ToString("N0", CultureInfo.InvariantCulture)}" +
            $", at least {AutoFloor.ToString("N0", CultureInfo.InvariantCulture)}");
    }

    /// <summary>Messages per unit of script size a run may go without progress before it is a liveness violation (invariant 8).</summary>
    public const long ProgressMessagesPerUnit = 100;

    /// <summary>The least such bound, however small the scripts.</summary>
    public const long ProgressFloor = 10_000;

    /// <summary>
    /// Invariant 8's bound: the messages a run cut off by a step limit may have delivered since its last progress (a fault
    /// resolved, an access applied, a system call) before it counts as spinning — <see cref="ProgressMessagesPerUnit"/> per
    /// unit of <see cref="ScriptSize"/>, at least <see cref="ProgressFloor"/>. The shipped scenarios finish within 25
    /// messages a unit, and explore's step limit (1,000 a unit) leaves a spinning run ten times this.
    /// </summary>
    public static long ProgressBound(Workload workload)
    {
        var size = ScriptSize(workload);
        return Math.Max(ProgressFloor, size > long.MaxValue / ProgressMessagesPerUnit ? long.MaxValue : size * ProgressMessagesPerUnit);
    }

    /// <summary>How <see cref="ProgressBound"/> was derived, for the violation's message.</summary>
    public static string ProgressBasis(Workload workload) =>
        $"{ProgressMessagesPerUnit} messages × a script size of {ScriptSize(workload).ToString("N0", CultureInfo.InvariantCulture)}, at least {ProgressFloor.ToString("N0", CultureInfo.InvariantCulture)}";

    /// <summary>
    /// The size of a workload's scripts, summed over its CPUs: each access counts the pages it touches (a page range
    /// one per page), each munmap, mprotect or madvise the pages of its range, a stream its own size as it counts it
    /// (<see cref="IOpSource.Size"/>), every other operation one.
    /// </summary>
    public static long ScriptSize(Workload workload)
    {
        var regions = workload.Processes.SelectMany(p => p.Regions).Select(r => (r.Name, r.Length))
            .Concat(workload.Scripts.SelectMany(s => s.Declared).OfType<Op.Map>().Select(m => (m.Name, m.Length)))
            .GroupBy(r => r.Name).ToDictionary(g => g.Key, g => g.Max(r => r.Length));
        long size = 0;
        foreach (var op in workload.Scripts.SelectMany(s => s.Ops))
        {
            size += op switch
            {
                Op.Access access => access.Target.Count,
                Op.Stream stream => stream.Source.Size,
                Op.Unmap unmap => Pages(unmap.Range, regions),
                Op.Protect protect => Pages(protect.Range, regions),
                Op.Advise advise => Pages(advise.Range, regions),
                _ => 1,
            };
        }
        return size;
    }

    private static long Pages(RangeExpr range, Dictionary<string, ulong> regions)
    {
        var bytes = range.Length ?? (range.Start.Region is { } name && regions.TryGetValue(name, out var length) ? length : 0);
        return Math.Max(1, (long)((bytes + VirtualAddress.PageSize - 1) / VirtualAddress.PageSize));
    }
}

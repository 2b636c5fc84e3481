using System.Collections.Immutable;
using Faultsim.Model.Addressing;

namespace Faultsim.Model.Machine;

/// <summary>How a process ended, if it did.</summary>
public enum ProcessFate
{
    Running,
    Exited,
    KilledBySigSegv,
    KilledBySigBus,
    /// <summary>Killed by the OOM killer: no frame could be freed for its fault.</summary>
    KilledByOom,
}

public sealed record ProcessReport(ProcessId Pid, string Name, ProcessFate Fate, Counters Counters);

/// <summary>The outcome of a run: counts in total and per process, the final memory, and a panic if the kernel oopsed.</summary>
/// <param name="Steps">Script steps executed (an access or a system call each).</param>
/// <param name="Memory">The final memory, unless the run was asked not to capture it (benchmarks).</param>
/// <param name="Panic">The oops message when the simulated kernel panicked; the run stopped there.</param>
public sealed record RunResult(
    string Engine,
    ulong Seed,
    int Cpus,
    Counters Totals,
    ImmutableArray<ProcessReport> Processes,
    MemoryImage? Memory,
    long Steps,
    string? Panic)
{
    /// <summary>Invariant violations seen during the run (a stale translation used, …); empty for a correct run.</summary>
    public ImmutableArray<string> Violations { get; init; } = [];

    /// <summary>Messages the engine's actors received (0 for the reference machine, which sends none).</summary>
    public long Messages { get; init; }

    /// <summary>Fault latency by resolution, in simulated nanoseconds (virtual time in deterministic runs, wall time in live ones).</summary>
    public ImmutableArray<LatencySummary> FaultLatency { get; init; } = [];

    /// <summary>How many events the run logged (0 when no log was kept).</summary>
    public long EventCount { get; init; }

    /// <summary>Processes a CPU waited to run that were never forked: their parent ended before its fork.</summary>
    public ImmutableArray<string> NeverStarted { get; init; } = [];

    /// <summary>Whether the user interrupted the run: its figures are those so far (partial), and it has no memory image.</summary>
    public bool Interrupted { get; init; }

    /// <summary>A cluster run: the node each of the machine's actors ran on (empty for a run on one node).</summary>
    public ImmutableArray<ActorPlacement> Placement { get; init; } = [];

    /// <summary>A cluster run: the messages the run's actors received from an actor on another node (0 on one node).</summary>
    public long CrossNodeMessages { get; init; }

    /// <summary>A cluster run: each node that left the cluster mid-run while the run went on without it, and what became of its parts.</summary>
    public ImmutableArray<NodeLeft> NodesLeft { get; init; } = [];
}

/// <summary>A node that left a cluster run mid-run (its address), and what became of its parts (<see cref="What"/>).</summary>
public sealed record NodeLeft(string Node, string What);

/// <summary>Where one actor of a cluster run ran: its name (cpu0, tlb0, mm1, memory, …) and its node's address.</summary>
public sealed record ActorPlacement(string Actor, string Node);

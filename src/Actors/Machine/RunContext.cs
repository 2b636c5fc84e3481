using Faultsim.Actors.Monitoring;
using Faultsim.Actors.Telemetry;

namespace Faultsim.Actors.Machine;

/// <summary>The simulated cost of each step, in nanoseconds of virtual time (live runs do not wait them).</summary>
/// <param name="Jitter">How much each delay varies, drawn from the seed: ±this fraction of it (0 to 1).</param>
public sealed record Latencies(long TlbHit, long PageWalk, long FaultEntry, long FaultExit, long Ipi, long PageZero, long PageCopy, double Jitter = 0)
{
    /// <summary>The first backoff of a fault retried because its loader crashed (<see cref="Faultsim.Model.Faults.RetryBackoff"/>).</summary>
    public long CrashRetry { get; init; }

    /// <summary>How long reclaim waits, when its evictions freed no frame, before it evicts again (a frame freed meanwhile is served at once).</summary>
    public long ReclaimThrottle { get; init; }

    public static readonly Latencies None = new(0, 0, 0, 0, 0, 0, 0);

    /// <summary>Round figures for a current x86 server.</summary>
    public static readonly Latencies Typical = new(TlbHit: 1, PageWalk: 30, FaultEntry: 400, FaultExit: 300, Ipi: 2_000, PageZero: 800, PageCopy: 1_200)
    {
        ReclaimThrottle = 1_000,
    };
}

/// <summary>
/// Known protocol bugs, planted on purpose to prove each invariant check can fail (config faultsim.bugs).
/// Each is off by default; the comment says which invariant it breaks.
/// </summary>
public sealed record PlantedBugs(
    bool WakeBeforePte = false,        // 2: followers are woken before the PTE they wait for is installed
    bool FreeBeforeAcks = false,       // 4: frames are released before every CPU acknowledged the shootdown
    bool NoLeaderElection = false,     // 1: every fault on a page reads it from disk
    bool CowIgnoreRefcount = false,    // 3: a COW write reuses the frame even when others share it
    bool SkipOneInvalidation = false,  // 4: one CPU's TLB is not invalidated in a shootdown
    bool LoseWaiterOnRestart = false,  // 2: a restarted loader forgets one of its waiters
    bool PublishBeforeFlush = false,   // 7: a COW break installs the new PTE before the old one is flushed from other CPUs
    bool MapOverPresent = false,       // 7: an install does not re-check the PTE it expects, so a second fault maps the page again
    bool SkipVmaRecheck = false,       // 4: an install does not re-check the VMA, so a load finished after munmap maps a page outside any VMA
    bool ForcedWriteInPageCache = false, // 5: a forced write looks its page up as a read after its COW fault, and may write the page cache
    bool AckBeforeDrain = false,       // 4: an IPI taken while a walk is out is acknowledged before the quantum's accesses reach memory
    bool WakeLateFollower = false)     // 2: a fault that reaches the loader while memory copies the page just read is woken at once
{
    public static readonly PlantedBugs None = new();

    public bool Any => this != None;
}

/// <summary>
/// What every simulation actor of one run shares: the latencies, the planted bugs, injected failures,
/// the event log (null when the run keeps none) and the tracing. Nothing in it is state an actor decides on.
/// </summary>
/// <param name="LoaderCrashRate">Probability that a loader crashes when a disk read completes (to exercise its restart).</param>
public sealed record RunContext(Latencies Latencies, PlantedBugs Bugs, double LoaderCrashRate, EventLog? Events)
{
    public static readonly RunContext Live = new(Latencies.None, PlantedBugs.None, 0, null);

    /// <summary>Which faults are traced, and the clock of their spans (none unless telemetry is on).</summary>
    public TraceSettings Tracing { get; init; } = TraceSettings.None;

    /// <summary>
    /// How long an actor may stay in one waiting state before the run fails naming it (see <see cref="SimulationActor"/>);
    /// null: unbounded. Live runs get <see cref="EngineSettings.WaitBound"/>; deterministic runs none.
    /// </summary>
    public TimeSpan? WaitBound { get; init; }

    /// <summary>Where the run's actors note each (state, message) they handle (explore's coverage); null: not noted.</summary>
    public Monitoring.ProtocolCoverage? Coverage { get; init; }

    /// <summary>Where this node's actors of the run count the messages they got from other nodes (a cluster run); null: not counted.</summary>
    public CrossNodeTraffic? Traffic { get; init; }

    /// <summary>What a loader tells its parent when it is idle (a shard's Passivate, in a cluster run); null: nothing (the router unbinds it).</summary>
    public object? IdleRequest { get; init; }

    /// <summary>
    /// Told when a loader takes a fault as its leader (a load starts), on the loader's thread: how a test makes a node's
    /// loss happen mid-load. False: the load goes no further here, as when its node dies under it. Null (every run but a
    /// node-loss test's): nothing is told.
    /// </summary>
    public Func<Paging.ResolveFault, bool>? LoadStarting { get; init; }
}

namespace Faultsim.Actors.Machine;

/// <summary>
/// How the actor engine runs: the accesses a CPU hands its TLB at once, the disk's queue depth, and the
/// threads that run the actors (0: one less than the machine's cores, at least one).
/// </summary>
public sealed record EngineSettings(int Quantum, int DiskQueueDepth, int Threads = 0)
{
    /// <summary>The threads the live dispatcher gets.</summary>
    public int EffectiveThreads => Threads > 0 ? Threads : Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>The disk's time to serve a page, beside the transfer.</summary>
    public TimeSpan DiskLatency { get; init; } = TimeSpan.FromTicks(1000); // 100 µs

    /// <summary>The disk's transfer rate in bytes per second.</summary>
    public ulong DiskBandwidth { get; init; } = 500UL << 20;

    /// <summary>Whether the disk waits its service time on the scheduler's clock (live runs: the real one).</summary>
    public bool TimedDisk { get; init; }

    /// <summary>What the run's actors share: latencies, planted bugs, injected crashes, the event log.</summary>
    public RunContext Run { get; init; } = RunContext.Live;

    /// <summary>
    /// Live runs: how long an actor may stay in one waiting state (an mm for its shootdown or a forked child, a loader
    /// for memory or the disk, a TLB for its translation, memory for an eviction) before the run fails naming the stuck
    /// protocol (faultsim.actors.wait-bound); null: unbounded. The deterministic engine never bounds a wait: virtual
    /// time and quiescence detect a stall there.
    /// </summary>
    public TimeSpan? WaitBound { get; init; } = DefaultWaitBound;

    public static readonly TimeSpan DefaultWaitBound = TimeSpan.FromSeconds(10);

    /// <summary>Whether the result carries the final memory image (benchmarks leave it out).</summary>
    public bool CaptureMemory { get; init; } = true;

    /// <summary>For OPT replacement: every page reference of the run in order, as a recording run saw them.</summary>
    public System.Collections.Immutable.ImmutableArray<Faultsim.Model.Addressing.PageKey> OptReferences { get; init; } = [];

    /// <summary>A cluster run: on which node each part of the machine is created (null: every part is a child of the machine).</summary>
    public Placement.ClusterPlacement? Placement { get; init; }

    public static readonly EngineSettings Default = new(64, 32);
}

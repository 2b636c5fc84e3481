using Faultsim.Actors.Shootdown;

namespace Faultsim.Actors.Machine;

/// <summary>
/// How the actor engine runs: the accesses a CPU hands its TLB at once, the shootdown mode, the disk's
/// queue depth, and the threads that run the actors (0: one less than the machine's cores, at least one).
/// </summary>
public sealed record EngineSettings(int Quantum, ShootdownMode Shootdown, int DiskQueueDepth, int Threads = 0)
{
    /// <summary>The threads the live dispatcher gets.</summary>
    public int EffectiveThreads => Threads > 0 ? Threads : Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>Whether the result carries the final memory image (benchmarks leave it out).</summary>
    public bool CaptureMemory { get; init; } = true;

    /// <summary>For OPT replacement: every page reference of the run in order, as a recording run saw them.</summary>
    public System.Collections.Immutable.ImmutableArray<Faultsim.Model.Addressing.PageKey> OptReferences { get; init; } = [];

    public static readonly EngineSettings Default = new(64, ShootdownMode.Batched, 32);
}

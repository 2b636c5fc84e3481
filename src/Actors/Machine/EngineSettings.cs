using Faultsim.Actors.Shootdown;

namespace Faultsim.Actors.Machine;

/// <summary>How the actor engine runs: the accesses a CPU hands its TLB at once, the shootdown mode, the disk's queue depth.</summary>
public sealed record EngineSettings(int Quantum, ShootdownMode Shootdown, int DiskQueueDepth)
{
    /// <summary>Whether the result carries the final memory image (benchmarks leave it out).</summary>
    public bool CaptureMemory { get; init; } = true;

    public static readonly EngineSettings Default = new(64, ShootdownMode.Batched, 32);
}

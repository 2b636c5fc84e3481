namespace Faultsim.Model.Shootdowns;

/// <summary>How the kernel makes other CPUs forget translations it changed or removed (config faultsim.shootdown).</summary>
public enum ShootdownMode
{
    /// <summary>One IPI round per changed page, each waited for before going on.</summary>
    Eager,
    /// <summary>One IPI round per operation, covering the range of pages it changed.</summary>
    Batched,
    /// <summary>
    /// No IPIs (LATR): each CPU applies the invalidation at its next flush point — the end of what it is running, or as
    /// soon as it waits in the kernel — and frames are freed only after every CPU has.
    /// </summary>
    Lazy,
}

namespace Faultsim.Model.Vmas;

/// <summary>What a VMA permits and how it behaves (Linux's VM_READ, VM_WRITE, VM_EXEC, VM_SHARED, VM_GROWSDOWN, VM_SEQ_READ, VM_RAND_READ).</summary>
[Flags]
public enum VmaFlags
{
    None = 0,
    Read = 1 << 0,
    Write = 1 << 1,
    Exec = 1 << 2,
    Shared = 1 << 3,
    GrowsDown = 1 << 4,
    /// <summary>VM_LOCKED (mlock, MAP_LOCKED): the VMA's pages are faulted in when it is locked and never reclaimed while it is.</summary>
    Locked = 1 << 5,
    /// <summary>
    /// mmap's MAP_POPULATE: the call faults the mapping's pages in before it returns. A flag of the call, never kept in a
    /// VMA (<see cref="Workloads.SystemCall.Mmap.VmaFlags"/>).
    /// </summary>
    Populate = 1 << 6,
    /// <summary>madvise(MADV_SEQUENTIAL): a major fault reads ahead from the faulting page on (VM_SEQ_READ).</summary>
    SequentialRead = 1 << 7,
    /// <summary>madvise(MADV_RANDOM): a major fault reads its page alone, and no marker reads ahead (VM_RAND_READ).</summary>
    RandomRead = 1 << 8,

    /// <summary>The read advice bits that madvise changes.</summary>
    ReadAdvice = SequentialRead | RandomRead,

    /// <summary>The protection bits that mprotect changes.</summary>
    Protection = Read | Write | Exec,
}

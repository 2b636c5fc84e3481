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
    /// <summary>madvise(MADV_SEQUENTIAL): a major fault reads ahead from the faulting page on (VM_SEQ_READ).</summary>
    SequentialRead = 1 << 5,
    /// <summary>madvise(MADV_RANDOM): a major fault reads its page alone, and no marker reads ahead (VM_RAND_READ).</summary>
    RandomRead = 1 << 6,

    /// <summary>The read advice bits that madvise changes.</summary>
    ReadAdvice = SequentialRead | RandomRead,

    /// <summary>The protection bits that mprotect changes.</summary>
    Protection = Read | Write | Exec,
}

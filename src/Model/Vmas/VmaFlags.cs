namespace Faultsim.Model.Vmas;

/// <summary>What a VMA permits and how it behaves (Linux's VM_READ, VM_WRITE, VM_EXEC, VM_SHARED, VM_GROWSDOWN).</summary>
[Flags]
public enum VmaFlags
{
    None = 0,
    Read = 1 << 0,
    Write = 1 << 1,
    Exec = 1 << 2,
    Shared = 1 << 3,
    GrowsDown = 1 << 4,

    /// <summary>The protection bits that mprotect changes.</summary>
    Protection = Read | Write | Exec,
}

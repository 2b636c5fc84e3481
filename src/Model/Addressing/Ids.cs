namespace Faultsim.Model.Addressing;

// Typed identifiers. Each is a plain value so that messages can carry them and logs can print them.

/// <summary>A physical frame. Frame 0 is the shared zero page.</summary>
public readonly record struct FrameNumber(uint Value)
{
    public static readonly FrameNumber Zero = new(0);
    public override string ToString() => $"frame {Value}";
}

/// <summary>Address-space id: tags TLB entries (PCID) and names an mm.</summary>
public readonly record struct Asid(int Value)
{
    /// <summary>The asid of a process's mm: one per process, never reused within a run.</summary>
    public static Asid Of(ProcessId pid) => new(pid.Value);

    /// <summary>The process whose mm this is (<see cref="Of"/> the other way).</summary>
    public ProcessId Pid => new(Value);

    public override string ToString() => $"asid {Value}";
}

/// <summary>A simulated CPU.</summary>
public readonly record struct CpuId(int Value)
{
    public override string ToString() => $"cpu{Value}";
}

/// <summary>A simulated process.</summary>
public readonly record struct ProcessId(int Value)
{
    public override string ToString() => $"pid {Value}";
}

/// <summary>A file known to the simulated machine.</summary>
public readonly record struct FileId(int Value)
{
    public override string ToString() => $"file {Value}";
}

/// <summary>A slot in swap space, recorded in the PTE of a swapped-out page.</summary>
public readonly record struct SwapSlot(uint Value)
{
    public override string ToString() => $"swap slot {Value}";
}

/// <summary>One page of one address space: the key by which a page's loader is found.</summary>
public readonly record struct PageKey(Asid Asid, PageNumber Page)
{
    public override string ToString() => $"{Asid}/{Page}";
}

/// <summary>One page of one file: the key of the page cache.</summary>
public readonly record struct FilePage(FileId File, ulong Index)
{
    public override string ToString() => $"{File} page {Index}";
}

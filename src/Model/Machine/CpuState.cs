using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Tlbs;
using Faultsim.Model.Workloads;

namespace Faultsim.Model.Machine;

/// <summary>One CPU of the reference machine: its TLB, its place in its script and the process it runs.</summary>
internal sealed class CpuState(CpuId id, ImmutableArray<Op> ops, Tlb tlb)
{
    public CpuId Id { get; } = id;
    public Tlb Tlb { get; } = tlb;
    public ImmutableArray<Op> Ops { get; } = ops;

    /// <summary>Index of the current operation.</summary>
    public int Pc { get; set; }

    /// <summary>Index of the next page within a multi-page access.</summary>
    public long Sub { get; set; }

    public ProcessState? Process { get; set; }
    public VirtualAddress StackPointer { get; set; }

    /// <summary>Stores so far: a store without an explicit value writes ((cpu + 1) &lt;&lt; 40) | this count.</summary>
    public ulong Stores { get; set; }

    /// <summary>Whether the CPU has arrived at the barrier it is on and waits for the others.</summary>
    public bool AtBarrier { get; set; }

    public bool Done => Pc >= Ops.Length;
    public Op Current => Ops[Pc];

    public void Advance()
    {
        Pc++;
        Sub = 0;
        AtBarrier = false;
    }

    public ulong NextStoreValue() => ((ulong)(Id.Value + 1) << 40) | ++Stores;
}

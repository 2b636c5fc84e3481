using Faultsim.Model.Addressing;
using Faultsim.Model.Tlbs;
using Faultsim.Model.Workloads;

namespace Faultsim.Model.Machine;

/// <summary>One CPU of the reference machine: its program (the script as the workload means it), its TLB, and the process it runs.</summary>
internal sealed class CpuState(CpuProgram program, Tlb tlb)
{
    public CpuId Id => Program.Cpu;
    public CpuProgram Program { get; } = program;
    public Tlb Tlb { get; } = tlb;
    public ProcessState? Process { get; set; }
    public VirtualAddress StackPointer => Program.StackPointer;

    /// <summary>Whether the CPU has arrived at the barrier it is on and waits for the others.</summary>
    public bool AtBarrier { get; set; }

    public bool Done => Program.Done;
}

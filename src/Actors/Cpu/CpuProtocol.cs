using System.Collections.Immutable;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;

namespace Faultsim.Actors.Cpu;

// CPU protocol. CPUs ⇄ the machine, for what spans CPUs: finding processes and barriers.
//   CPU ──FindProcess──▶ machine ──ProcessFound──▶ CPU      at once, or when a fork creates it
//   CPU ──ArriveAtBarrier──▶ machine ──BarrierPassed──▶ CPU  when every CPU naming it has arrived
//   CPU ──CpuFinished──▶ machine                              its script is done
public interface ICpuProtocol : ISimulationMessage;

/// <summary>CPU → machine: the process a script line runs. Answered by <see cref="ProcessFound"/>.</summary>
public sealed record FindProcess(CpuId Cpu, string Name, int Line) : ICpuProtocol;

/// <summary>Machine → CPU: the process (its mm is the directory's of <see cref="Asid"/>) and its regions. <see cref="Alive"/> is false if it has already ended.</summary>
public sealed record ProcessFound(string Name, ProcessId Pid, Asid Asid, VirtualAddress StackPointer,
    ImmutableDictionary<string, (VirtualAddress Start, ulong Length)> Regions, bool Alive) : ICpuProtocol;

/// <summary>Machine → CPU: the process will never run, its parent ended before forking it; its operations are skipped.</summary>
public sealed record ProcessNeverStarted(string Name) : ICpuProtocol;

/// <summary>CPU → machine: this CPU's process ended before its fork of <see cref="Child"/>, which will never run.</summary>
public sealed record ForkSkipped(CpuId Cpu, string Child) : ICpuProtocol;

/// <summary>CPU → machine. Answered by <see cref="BarrierPassed"/>.</summary>
public sealed record ArriveAtBarrier(CpuId Cpu, string Name, int Line) : ICpuProtocol;

public sealed record BarrierPassed(string Name) : ICpuProtocol;

/// <summary>CPU → machine: the script is done (or the machine halted it); what the CPU and its TLB counted for each process it ran.</summary>
public sealed record CpuFinished(CpuId Cpu, ImmutableDictionary<ProcessId, QuantumStats> ByProcess, long Steps, long MessagesReceived) : ICpuProtocol;

/// <summary>Machine → CPU: stop now (the kernel panicked). Answered by <see cref="CpuFinished"/> unless it already finished.</summary>
public sealed record Halt : ICpuProtocol
{
    public static readonly Halt Instance = new();
}

using System.Collections.Immutable;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;

namespace Faultsim.Actors.Cpu;

// CPU protocol. CPUs ⇄ the machine, for what spans CPUs: finding processes and barriers.
//   CPU ──FindProcess──▶ machine ──ProcessFound──▶ CPU      at once, or when a fork creates it
//   CPU ──ArriveAtBarrier──▶ machine ──BarrierPassed──▶ CPU  when every CPU naming it has arrived
//   CPU ──CpuFinished──▶ machine                              its script is done
// In a cluster run the arrival and the finish travel as AfterAccesses: CPU ──▶ its TLB ──▶ memory ──▶ machine.
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

/// <summary>
/// CPU → its TLB → memory → machine, in a cluster run: <see cref="Message"/> (an arrival at a barrier, a finish) along the
/// path of the CPU's accesses, so that it reaches the machine after memory has applied them. Akka orders messages per
/// sender and receiver only: sent straight, it could let the machine pass another CPU whose load then reaches memory
/// before this CPU's store, or read memory for the run's result before the last accesses arrive. On one node a Tell is
/// in its receiver's mailbox at once, so the direct message keeps that order by itself.
/// </summary>
public sealed record AfterAccesses(ICpuProtocol Message) : ICpuProtocol;

/// <summary>Machine → CPU: stop now (the kernel panicked). Answered by <see cref="CpuFinished"/> unless it already finished.</summary>
public sealed record Halt : ICpuProtocol
{
    public static readonly Halt Instance = new();
}

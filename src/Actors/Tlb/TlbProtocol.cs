using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Shootdowns;
using Faultsim.Model.Workloads;

namespace Faultsim.Actors.Tlb;

// TLB protocol. CPU ⇄ its TLB, and shootdown rounds ⇄ every TLB.
//   CPU ──ExecuteQuantum──▶ TLB            a quantum: accesses of one process, run in order
//   TLB performs the hits itself; a miss walks the page table (AddressSpaceProtocol: Walk),
//   a failed walk becomes a fault (FaultProtocol) whose resolution the TLB waits for, then retries.
//   TLB ──QuantumExecuted──▶ CPU           how many accesses completed, and why it stopped
//   Shootdown ──Invalidate──▶ TLB ──InvalidateAcked──▶ Shootdown   an IPI, handled between accesses
public interface ITlbProtocol : ISimulationMessage;

/// <summary>CPU → its TLB: perform <see cref="Accesses"/> for process <see cref="Pid"/>. Answered by <see cref="QuantumExecuted"/>.</summary>
public sealed record ExecuteQuantum(
    QuantumId Id, ProcessId Pid, Asid Asid, VirtualAddress StackPointer,
    ImmutableArray<ScriptAccess> Accesses) : ITlbProtocol;

/// <summary>Why a quantum stopped.</summary>
public enum QuantumEnd
{
    /// <summary>Every access completed.</summary>
    Completed,
    /// <summary>The access at index Completed got EFAULT: its system call fails, the process goes on.</summary>
    Efault,
    /// <summary>The process died (a fatal signal, the OOM killer, or another thread's exit).</summary>
    ProcessEnded,
    /// <summary>The kernel oopsed: the machine panics.</summary>
    Panic,
}

/// <summary>What a quantum counted, for the CPU to add to its process.</summary>
public sealed record QuantumStats(long Hits, long Misses, long Accesses, long DiskReads, ImmutableArray<long> FaultsByKind, long Minor, long Major)
{
    private static readonly ResolutionKind[] Kinds = Enum.GetValues<ResolutionKind>();

    public static readonly QuantumStats Zero = new(0, 0, 0, 0, [.. new long[Kinds.Length]], 0, 0);

    /// <summary>What a quantum counted, as the model counts it (<see cref="Counters.CountFault"/>).</summary>
    public static QuantumStats Of(Counters counted) => new(counted.TlbHits, counted.TlbMisses, counted.Accesses, counted.DiskReads,
        [.. Kinds.Select(kind => counted[kind])], counted.Minor, counted.Major);

    public QuantumStats Plus(QuantumStats other) => new(
        Hits + other.Hits, Misses + other.Misses, Accesses + other.Accesses, DiskReads + other.DiskReads,
        [.. FaultsByKind.Zip(other.FaultsByKind, (a, b) => a + b)], Minor + other.Minor, Major + other.Major);
}

/// <summary>TLB → CPU: the first <see cref="Completed"/> accesses are done; <see cref="End"/> says why it stopped.</summary>
public sealed record QuantumExecuted(QuantumId Id, int Completed, QuantumEnd End, ProcessFate Fate, QuantumStats Stats) : ITlbProtocol;

/// <summary>
/// Shootdown → TLB: drop the translations <see cref="Scope"/> covers. The TLB takes it at its next flush point: between
/// two steps of a quantum (an IPI interrupts the CPU there; a lazy order is queued for it), when the quantum ends, or at
/// once while it waits (a CPU waiting in the kernel flushes its queue). Answered by <see cref="InvalidateAcked"/>.
/// </summary>
public sealed record Invalidate(ShootdownId Id, ShootdownScope Scope) : ITlbProtocol;

/// <summary>TLB → shootdown round: the translations are gone from <see cref="Cpu"/>'s TLB.</summary>
public sealed record InvalidateAcked(ShootdownId Id, CpuId Cpu) : ITlbProtocol;

/// <summary>Machine → TLB at the end of a run. Answered by <see cref="TlbStats"/>.</summary>
public sealed record GetTlbStats : ITlbProtocol
{
    public static readonly GetTlbStats Instance = new();
}

/// <summary>TLB → machine: its messages, and the latency of the faults it waited for, by resolution.</summary>
public sealed record TlbStats(CpuId Cpu, long MessagesReceived, ImmutableArray<FaultLatencies> Latencies) : ITlbProtocol;

/// <summary>A fault-latency histogram of one resolution, as its non-zero buckets.</summary>
public sealed record FaultLatencies(ResolutionKind Kind, ImmutableArray<(int Bucket, long Count)> Buckets, long Max);

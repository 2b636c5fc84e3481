using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.Telemetry;
using Faultsim.Model.Addressing;

namespace Faultsim.Actors.Shootdown;

// Shootdown protocol. The mm that changed or removed valid translations runs a round:
//   mm ──(creates)──▶ ShootdownRound ──Invalidate──▶ every TLB in the CPU mask (TlbProtocol)
//   TLB ──InvalidateAcked──▶ round; after the last ack: round ──ShootdownCompleted──▶ mm
// Only then does the mm let memory free or reuse the frames.
public interface IShootdownProtocol : ISimulationMessage;

/// <summary>How translations are shot down (config faultsim.shootdown.mode).</summary>
public enum ShootdownMode
{
    /// <summary>One IPI round per changed page, each waited for before going on.</summary>
    Eager,
    /// <summary>One IPI round per operation, covering the range of pages it changed.</summary>
    Batched,
    /// <summary>No IPIs: each TLB flushes at its next flush point (end of a quantum), and frames are freed after all have (LATR).</summary>
    Lazy,
}

/// <summary>A TLB to shoot down, with the CPU it belongs to.</summary>
public readonly record struct ShootdownTarget(CpuId Cpu, IActorRef Tlb);

/// <summary>Round → mm: every target acknowledged.</summary>
public sealed record ShootdownCompleted(ShootdownId Id, int Ipis) : IShootdownProtocol;

/// <summary>What a round invalidates: a page range of one address space, or all of it.</summary>
public sealed record ShootdownScope(Asid Asid, PageNumber From, PageNumber To, bool All);

/// <summary>The parameters of one round; <see cref="Trace"/> is the fault that needed it, if one did and it is sampled.</summary>
public sealed record ShootdownOrder(ShootdownId Id, ShootdownScope Scope, ImmutableArray<ShootdownTarget> Targets, CpuId Initiator, ShootdownMode Mode,
    TraceContext Trace = default);

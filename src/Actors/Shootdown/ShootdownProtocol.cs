using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.Telemetry;
using Faultsim.Model.Addressing;
using Faultsim.Model.Shootdowns;

namespace Faultsim.Actors.Shootdown;

// Shootdown protocol. The mm that changed or removed valid translations runs a round:
//   mm ──(creates)──▶ ShootdownRound ──Invalidate──▶ every TLB in the CPU mask (TlbProtocol)
//   TLB ──InvalidateAcked──▶ round; after the last ack: round ──ShootdownCompleted──▶ mm
// Only then does the mm let memory free or reuse the frames.
public interface IShootdownProtocol : ISimulationMessage;

/// <summary>A TLB to shoot down, with the CPU it belongs to.</summary>
public readonly record struct ShootdownTarget(CpuId Cpu, IActorRef Tlb);

/// <summary>Round → mm: every target acknowledged.</summary>
public sealed record ShootdownCompleted(ShootdownId Id, int Ipis) : IShootdownProtocol;

/// <summary>The parameters of one round; <see cref="Trace"/> is the fault that needed it, if one did and it is sampled.</summary>
public sealed record ShootdownOrder(ShootdownId Id, ShootdownScope Scope, ImmutableArray<ShootdownTarget> Targets, CpuId Initiator, ShootdownMode Mode,
    TraceContext Trace = default);

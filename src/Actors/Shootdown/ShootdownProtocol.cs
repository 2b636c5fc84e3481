using System.Collections.Immutable;
using Faultsim.Actors.Telemetry;
using Faultsim.Model.Addressing;
using Faultsim.Model.Shootdowns;

namespace Faultsim.Actors.Shootdown;

// Shootdown protocol. The mm that changed or removed valid translations runs a round:
//   mm ──(creates)──▶ ShootdownRound ──Invalidate──▶ every TLB in the CPU mask (TlbProtocol)
//   TLB ──InvalidateAcked──▶ round; after the last ack: round ──ShootdownCompleted──▶ mm
// Only then does the mm let memory free or reuse the frames.
public interface IShootdownProtocol : ISimulationMessage;

/// <summary>Round → mm: every target acknowledged.</summary>
public sealed record ShootdownCompleted(ShootdownId Id, int Ipis) : IShootdownProtocol;

/// <summary>
/// The parameters of one round: the CPUs whose TLBs it shoots down (the directory says where they are); <see cref="Trace"/>
/// is the fault that needed it, if one did and it is sampled.
/// </summary>
public sealed record ShootdownOrder(ShootdownId Id, ShootdownScope Scope, ImmutableArray<CpuId> Targets, CpuId Initiator, ShootdownMode Mode,
    TraceContext Trace = default);

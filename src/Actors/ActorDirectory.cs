using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Model.Addressing;

namespace Faultsim.Actors;

/// <summary>
/// Where a run's actors are: the machine, memory, the disk, the loaders' routing point, each CPU and its TLB, and each
/// address space (one per process the workload names, forked children included). The machine builds it once every actor
/// exists and hands it to each in <see cref="Connect"/>; from then on an actor finds a peer by what a message names (a
/// CPU, an asid) instead of by a reference the message carries. It is the seam where a cluster puts its shard regions
/// and the references of other nodes' actors.
/// </summary>
public sealed record ActorDirectory
{
    public IActorRef Machine { get; init; } = ActorRefs.Nobody;
    public IActorRef Memory { get; init; } = ActorRefs.Nobody;
    public IActorRef Disk { get; init; } = ActorRefs.Nobody;

    /// <summary>Where page messages go: the loader of their page is bound there (a shard region in a cluster).</summary>
    public IActorRef Loaders { get; init; } = ActorRefs.Nobody;

    /// <summary>By CPU number.</summary>
    public ImmutableArray<IActorRef> Cpus { get; init; } = [];

    /// <summary>By CPU number.</summary>
    public ImmutableArray<IActorRef> Tlbs { get; init; } = [];

    public ImmutableDictionary<Asid, IActorRef> AddressSpaces { get; init; } = ImmutableDictionary<Asid, IActorRef>.Empty;

    public IActorRef Cpu(CpuId cpu) => Cpus[cpu.Value];

    public IActorRef Tlb(CpuId cpu) => Tlbs[cpu.Value];

    public IActorRef AddressSpace(Asid asid) =>
        AddressSpaces.TryGetValue(asid, out var mm) ? mm : throw new InvalidOperationException($"the directory has no address space of {asid}");
}

/// <summary>Machine → every actor it starts, as its first message: where its peers are. Answered by <see cref="Connected"/>.</summary>
public sealed record Connect(ActorDirectory Directory) : ISimulationMessage;

public sealed record Connected : ISimulationMessage
{
    public static readonly Connected Instance = new();
}

using System.Collections.Frozen;
using System.Runtime.Serialization;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Cpu;
using Faultsim.Actors.Disk;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Memory;
using Faultsim.Actors.Paging;
using Faultsim.Actors.Shootdown;
using Faultsim.Actors.Tlb;

namespace Faultsim.Actors.Serialization;

/// <summary>
/// The fixed table of every message that can cross nodes, and its manifest on the wire. A manifest that is not in it is
/// refused: no type is ever loaded by the name a peer sends. A new message needs a line here (a test enumerates every
/// <see cref="ISimulationMessage"/> and fails for one that has none); a manifest, once used, keeps its meaning.
/// </summary>
public static class MessageTable
{
    private static readonly (string Manifest, Type Type)[] Entries =
    [
        // the directory (ActorDirectory.cs)
        ("Connect", typeof(Connect)),
        ("Connected", typeof(Connected)),
        // AddressSpaceProtocol
        ("Walk", typeof(Walk)),
        ("Walked", typeof(Walked)),
        ("WalkRefused", typeof(WalkRefused)),
        ("InstallPte", typeof(InstallPte)),
        ("ReplacePte", typeof(ReplacePte)),
        ("CpuAttached", typeof(CpuAttached)),
        ("CpuAttachAcknowledged", typeof(CpuAttachAcknowledged)),
        ("KillProcess", typeof(KillProcess)),
        ("Syscall", typeof(Syscall)),
        ("SyscallReturned", typeof(SyscallReturned)),
        ("ReportAddressSpace", typeof(ReportAddressSpace)),
        ("AddressSpaceReport", typeof(AddressSpaceReport)),
        ("LookupRegion", typeof(LookupRegion)),
        ("RegionFound", typeof(RegionFound)),
        ("RegionChanged", typeof(RegionChanged)),
        ("StartForked", typeof(StartForked)),
        // CpuProtocol
        ("CpuStart", typeof(CpuActor.Start)),
        ("FindProcess", typeof(FindProcess)),
        ("ProcessFound", typeof(ProcessFound)),
        ("ProcessNeverStarted", typeof(ProcessNeverStarted)),
        ("ForkSkipped", typeof(ForkSkipped)),
        ("ArriveAtBarrier", typeof(ArriveAtBarrier)),
        ("BarrierPassed", typeof(BarrierPassed)),
        ("CpuFinished", typeof(CpuFinished)),
        ("Halt", typeof(Halt)),
        ("AfterAccesses", typeof(AfterAccesses)),
        // DiskProtocol
        ("ReadPage", typeof(ReadPage)),
        ("PageRead", typeof(PageRead)),
        ("PageReadFailed", typeof(PageReadFailed)),
        ("WritePage", typeof(WritePage)),
        ("PageWritten", typeof(PageWritten)),
        ("ReadWrittenFiles", typeof(ReadWrittenFiles)),
        ("WrittenFiles", typeof(WrittenFiles)),
        // MachineProtocol
        ("ProcessReady", typeof(ProcessReady)),
        ("ProcessEnded", typeof(ProcessEnded)),
        ("KernelPanic", typeof(KernelPanic)),
        ("WorkloadFailed", typeof(WorkloadFailed)),
        ("ViolationFound", typeof(ViolationFound)),
        // MemoryProtocol
        ("LookUp", typeof(LookUp)),
        ("LookedUp", typeof(LookedUp)),
        ("Prepare", typeof(Prepare)),
        ("CancelRead", typeof(CancelRead)),
        ("Unprepare", typeof(Unprepare)),
        ("SwapEntryDropped", typeof(SwapEntryDropped)),
        ("Accessed", typeof(Accessed)),
        ("ReleasePages", typeof(ReleasePages)),
        ("AddReferences", typeof(AddReferences)),
        ("ReferencesAdded", typeof(ReferencesAdded)),
        ("PageOut", typeof(PageOut)),
        ("PagedOut", typeof(PagedOut)),
        ("ReclaimThrottled", typeof(ReclaimThrottled)),
        ("PteReplaced", typeof(PteReplaced)),
        ("ReadContents", typeof(ReadContents)),
        ("Contents", typeof(Contents)),
        ("WillNeed", typeof(WillNeed)),
        ("WillNeeded", typeof(WillNeeded)),
        ("LockPages", typeof(LockPages)),
        ("MovePages", typeof(MovePages)),
        // FaultProtocol
        ("ResolveFault", typeof(ResolveFault)),
        ("FaultResolved", typeof(FaultResolved)),
        ("EvictPage", typeof(EvictPage)),
        // LoaderProtocol
        ("Routed", typeof(Routed)),
        ("LoaderIdle", typeof(LoaderIdle)),
        ("GetLoader", typeof(GetLoader)),
        ("LoaderOf", typeof(LoaderOf)),
        ("GetRouterStats", typeof(GetRouterStats)),
        ("RouterStats", typeof(RouterStats)),
        ("LoaderEnvelope", typeof(LoaderEnvelope)),
        ("StopLoader", typeof(StopLoader)),
        ("LoadersMoved", typeof(LoadersMoved)),
        ("LoadersDrained", typeof(LoadersDrained)),
        ("RetireLoaders", typeof(RetireLoaders)),
        ("LoadersRetired", typeof(LoadersRetired)),
        ("HoldLoads", typeof(HoldLoads)),
        ("LoadsHeld", typeof(LoadsHeld)),
        ("ReleaseLoads", typeof(ReleaseLoads)),
        // PlacementProtocol
        ("CreateParts", typeof(Placement.CreateParts)),
        ("PartsCreated", typeof(Placement.PartsCreated)),
        ("PartsRefused", typeof(Placement.PartsRefused)),
        ("PartFailed", typeof(Placement.PartFailed)),
        ("GetTraffic", typeof(Placement.GetTraffic)),
        ("Traffic", typeof(Placement.Traffic)),
        ("GetRunEvents", typeof(Placement.GetRunEvents)),
        ("RunEvents", typeof(Placement.RunEvents)),
        ("NodeLeaving", typeof(Placement.NodeLeaving)),
        ("LeaveAcknowledged", typeof(Placement.LeaveAcknowledged)),
        ("NodeHandedOff", typeof(Placement.NodeHandedOff)),
        ("GetPendingFault", typeof(Placement.GetPendingFault)),
        ("PendingFault", typeof(Placement.PendingFault)),
        // ShootdownProtocol
        ("ShootdownCompleted", typeof(ShootdownCompleted)),
        // TlbProtocol
        ("ExecuteQuantum", typeof(ExecuteQuantum)),
        ("QuantumExecuted", typeof(QuantumExecuted)),
        ("Invalidate", typeof(Invalidate)),
        ("InvalidateAcked", typeof(InvalidateAcked)),
        ("GetTlbStats", typeof(GetTlbStats)),
        ("TlbStats", typeof(TlbStats)),
    ];

    private static readonly FrozenDictionary<string, Type> ByManifest = Entries.ToFrozenDictionary(e => e.Manifest, e => e.Type, StringComparer.Ordinal);
    private static readonly FrozenDictionary<Type, string> ByType = Entries.ToFrozenDictionary(e => e.Type, e => e.Manifest);

    /// <summary>Every message type, in table order.</summary>
    public static IEnumerable<Type> Types => Entries.Select(e => e.Type);

    /// <summary>Every (manifest, type), in table order.</summary>
    public static IReadOnlyList<(string Manifest, Type Type)> All => Entries;

    public static string ManifestOf(Type type) =>
        ByType.TryGetValue(type, out var manifest)
            ? manifest
            : throw new SerializationException($"faultsim wire: {type} is not in the message table (src/Actors/Serialization/MessageTable.cs): add it there to send it across nodes");

    public static Type TypeOf(string manifest) =>
        ByManifest.TryGetValue(manifest, out var type)
            ? type
            : throw new SerializationException(
                $"faultsim wire: unknown message manifest '{manifest}': not one of this build's {Entries.Length} message types (is the peer another faultsim version?)");
}

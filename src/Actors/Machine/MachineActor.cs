using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Cpu;
using Faultsim.Actors.Disk;
using Faultsim.Actors.Memory;
using Faultsim.Actors.Paging;
using Faultsim.Actors.Placement;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Storage;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Actors.Machine;

/// <summary>
/// The simulated machine: parent of every simulation actor and driver of a run. It starts memory, the disk, the loader
/// router, a TLB and a CPU per CPU and an mm per process the workload names (a forked child's waits, unborn, for its
/// fork), and hands each the run's <see cref="ActorDirectory"/>; finds processes and passes barriers for the CPUs (by
/// the workload's <see cref="BarrierTable"/>); and when every CPU is done, gathers the counts and the final memory into
/// the run's result. A child that fails ends the run at once, whatever state the machine is in.
/// </summary>
// Waiting ──StartRun──▶ Connecting ──every Connected──▶ Running ──all CPUs finished──▶ CollectingMms ──every report──▶ ReadingMemory
//   ──Contents──▶ ReadingFiles ──WrittenFiles──▶ CollectingStats ──router and every TLB──▶ Done (RunFinished)
// Running ──WorkloadFailed | deadlock──▶ Done (RunFailed);  any state ──SimulationFailed──▶ Done (RunCrashed)
// a cluster run: any state ──NodeLeaving | Terminated──▶ the same state (its routing points retired) or Reporting ──▶ Done (RunLost): see MachineActor.Loss
public sealed partial class MachineActor : SimulationActor
{
    private readonly Workload _workload;
    private readonly EngineSettings _settings;
    private readonly ulong _seed;
    private readonly FileTable _files;
    private readonly BarrierTable _barriers;
    private readonly Dictionary<string, ProcessEntry> _processes = [];
    private readonly Dictionary<CpuId, CpuStep> _waiting = [];   // at a barrier, or for a process not forked yet
    private readonly SortedSet<string> _neverStarted = new(StringComparer.Ordinal);   // their parent ended before the fork
    private readonly Dictionary<CpuId, CpuFinished> _finished = [];
    private readonly List<string> _violations = [];
    private readonly SlotLease? _slots;
    private readonly List<ActorPlacement> _placed = [];           // a cluster run: where each part runs
    private readonly List<IActorRef> _nodeRuns = [];              // a cluster run: each node's run parts
    private IActorRef _requester = ActorRefs.Nobody;
    private string? _panic;
    private bool _peersKnown;

    /// <param name="slots">The engine's slots if this machine runs in one (its actors are slots kept from run to run); null: it creates its actors.</param>
    public MachineActor(Workload workload, EngineSettings settings, ulong seed, SlotLease? slots)
        : base(nameof(Waiting), coverage: settings.Run.Coverage, traffic: settings.Run.Traffic)
    {
        (_workload, _settings, _seed, _slots) = (workload, settings, seed, slots);
        _files = MachineParts.FilesOf(workload);
        _barriers = new BarrierTable(workload.Machine.Cpus, workload.Scripts);
    }

    /// <param name="slots">The engine's slots when the machine runs in one (<see cref="ActorSlot"/>); null: it creates its actors.</param>
    public static Props Props(Workload workload, EngineSettings settings, ulong seed, SlotLease? slots = null) =>
        ActorFactory.Props(() => new MachineActor(workload, settings, seed, slots));

    protected override bool Receive(object message) => Waiting(message);

    /// <summary>
    /// A simulation actor that throws has lost state the run depends on (a page table, the frames, a CPU's place in
    /// its script) or broke its protocol: the run cannot be trusted, so it stops and fails with the error. Loaders that
    /// merely crashed are the exception: their router restarts them, and a loader wakes its waiters before it restarts.
    /// Not logged: the run's one line says what failed (a bad trace line met mid-run is bad input, with no stack to show).
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(-1, -1, error =>
    {
        Self.Tell(new SimulationFailed(error.Message));
        return Directive.Stop;
    }, loggingEnabled: false);

    private bool Waiting(object message)
    {
        if (message is not StartRun)
            return Always(message);
        _requester = Sender;
        Start();
        return true;
    }

    /// <summary>
    /// Every simulation actor is created here, in a handler, and told the directory; the CPUs start only once every actor
    /// has it (Connected), so no message can reach an actor that does not yet know its peers. On a cluster the parts are
    /// created by the nodes they are placed on (<see cref="Placing"/>), and told the directory once every node has answered.
    /// A machine in a slot (<see cref="ActorSlot"/>, the deterministic engine's) finds its actors' slots among its children,
    /// made before the run (<see cref="SlotNames"/>), and tells each its actor's props with the directory, in the order in
    /// which it would have created them: each slot's mailbox then asks to run when a new actor's would have, so the run is the same.
    /// </summary>
    private void Start()
    {
        var parts = new MachineParts(_workload, _settings, _seed, _slots);
        foreach (var setup in parts.Setups)
            _processes[setup.Name] = new ProcessEntry(setup.Pid, setup.Name, setup.Asid, setup.StackPointer, setup.Regions);
        if (_settings.Placement is { } placement)
        {
            var byHost = placement.Hosts.GroupBy(p => p.Value, p => p.Key).ToList();
            foreach (var host in byHost)
                Context.Watch(host.Key); // a node lost before it answers ends the run too
            placement.Reachability?.Tell(new WatchReachability(Self));
            foreach (var host in byHost)
                host.Key.Tell(new CreateParts(placement.Run, placement.Spec, [.. host.OrderBy(p => p.Kind).ThenBy(p => p.Index)]));
            _placed.Add(new ActorPlacement("machine", placement.MachineNode));
            BecomePlacing(parts, byHost.Count, ImmutableDictionary<Part, IActorRef>.Empty);
            return;
        }
        if (_slots is not null)
        {
            var (slots, directory) = SlotsOf(parts);
            UsePeers(directory);
            foreach (var part in parts.All) // in the order of creation
                slots[part].Tell(new Reincarnate(parts.Props(part), new Connect(directory)));
            BecomeConnecting(parts.All.Length);
            return;
        }
        Connect(parts, parts.All.ToDictionary(p => p, p => Context.ActorOf(parts.Props(p), p.Name)));
    }

    private void Connect(MachineParts parts, IReadOnlyDictionary<Part, IActorRef> actors)
    {
        var directory = parts.Directory(Self, actors);
        UsePeers(directory);
        _peersKnown = true;
        IActorRef[] everyone = [directory.Memory, directory.Disk, directory.Loaders, .. directory.Tlbs, .. directory.AddressSpaces.Values, .. directory.Cpus,
            .. actors.Where(a => a.Key is { Kind: PartKind.Loaders, Index: > 0 }).Select(a => a.Value)]; // a cluster's other routing points
        foreach (var actor in everyone)
            actor.Tell(new Connect(directory));
        BecomeConnecting(everyone.Length);
    }

    private void BecomePlacing(MachineParts parts, int nodes, ImmutableDictionary<Part, IActorRef> actors) =>
        BecomeWaiting(nameof(Placing), m => Placing(m, parts, nodes, actors), "every node's parts (PartsCreated)");

    /// <summary>A cluster run: each node answers with the parts placed on it; the machine watches each, since a node may be lost.</summary>
    private bool Placing(object message, MachineParts parts, int nodes, ImmutableDictionary<Part, IActorRef> actors)
    {
        switch (message)
        {
            case PartsCreated created:
                _nodeRuns.Add(Sender);
                foreach (var placed in created.Parts)
                {
                    Context.Watch(placed.Actor);
                    _partActors[placed.Part] = placed.Actor;
                    _placed.Add(new ActorPlacement(placed.Part.Name, created.Node));
                }
                actors = actors.AddRange(created.Parts.Select(p => KeyValuePair.Create(p.Part, p.Actor)));
                if (nodes > 1)
                    BecomePlacing(parts, nodes - 1, actors);
                else
                    Connect(parts, actors);
                return true;
            case PartsRefused refused:
                End(new RunCrashed($"node {refused.Node} could not make its part of the run: {refused.Reason}"));
                return true;
            default:
                return Always(message);
        }
    }

    /// <summary>The names of the machine's actors for <paramref name="workload"/>: the slots a machine in a slot needs before its run.</summary>
    public static IEnumerable<string> SlotNames(Workload workload)
    {
        yield return "memory";
        yield return "disk";
        yield return "loaders";
        for (var i = 0; i < workload.Machine.Cpus; i++)
            yield return $"tlb{i}";
        foreach (var name in workload.ProcessNames)
            yield return $"mm{Asid.Of(workload.PidOf(name)).Value}";
        for (var i = 0; i < workload.Machine.Cpus; i++)
            yield return $"cpu{i}";
    }

    /// <summary>The slots of <paramref name="parts"/> and their directory: the last run's when its machine had the same parts and no slot was made or stopped since.</summary>
    private (IReadOnlyDictionary<Part, IActorRef> Slots, ActorDirectory Directory) SlotsOf(MachineParts parts)
    {
        var lease = _slots!;
        if (lease.Directory is { } kept && kept.Generation == lease.Generation && kept.Machine.Equals(Self) && kept.Parts.AsSpan().SequenceEqual(parts.All.AsSpan()))
            return (kept.Slots, kept.Directory);
        var slots = parts.All.ToDictionary(p => p, p => SlotOf(p.Name));
        var directory = parts.Directory(Self, slots);
        lease.Directory = new SlotDirectory(parts.All, lease.Generation, Self, slots, directory);
        return (slots, directory);
    }

    private IActorRef SlotOf(string name) =>
        Context.Child(name) is { } slot && !slot.IsNobody() ? slot : throw new InvalidOperationException($"the machine has no slot {name}: SlotNames makes it before the run");

    private void BecomeConnecting(int remaining) => Become(nameof(Connecting), m => Connecting(m, remaining));

    private bool Connecting(object message, int remaining)
    {
        if (message is not Connected)
            return Always(message);
        if (remaining > 1)
        {
            BecomeConnecting(remaining - 1);
            return true;
        }
        Become(nameof(Running), Running);
        foreach (var cpu in Peers.Cpus)
            cpu.Tell(CpuActor.Start.Instance);
        return true;
    }

    /// <summary>From now on CPUs find the forked process; those already waiting for it are answered.</summary>
    private void Register(ProcessEntry process)
    {
        _processes[process.Name] = process;
        foreach (var cpu in WaitingFor(CpuStepKind.Switch, process.Name))
        {
            _waiting.Remove(cpu);
            Peers.Cpu(cpu).Tell(Found(process));
        }
    }

    private List<CpuId> WaitingFor(CpuStepKind kind, string name) =>
        [.. _waiting.Where(w => w.Value.Kind == kind && w.Value.Name == name).Select(w => w.Key)];

    private static ProcessFound Found(ProcessEntry p) =>
        new(p.Name, p.Pid, p.Asid, p.StackPointer, p.Regions, p.Fate == ProcessFate.Running);

    private bool Running(object message)
    {
        switch (message)
        {
            case FindProcess find when _processes.TryGetValue(find.Name, out var process):
                Sender.Tell(Found(process));
                return true;
            case FindProcess find when _neverStarted.Contains(find.Name):
                Sender.Tell(new ProcessNeverStarted(find.Name));
                return true;
            case FindProcess find:
                _waiting[find.Cpu] = new CpuStep(CpuStepKind.Switch, find.Name, find.Line);
                CheckDeadlock();
                return true;
            case ForkSkipped skipped:
                _neverStarted.Add(skipped.Child);
                foreach (var cpu in WaitingFor(CpuStepKind.Switch, skipped.Child))
                {
                    _waiting.Remove(cpu);
                    Peers.Cpu(cpu).Tell(new ProcessNeverStarted(skipped.Child));
                }
                return true;
            case ArriveAtBarrier arrive:
                _barriers.Arrive(arrive.Cpu, arrive.Name);
                _waiting[arrive.Cpu] = new CpuStep(CpuStepKind.Barrier, arrive.Name, arrive.Line);
                foreach (var cpu in WaitingFor(CpuStepKind.Barrier, arrive.Name))
                {
                    if (_barriers.IsOpen(cpu, arrive.Name))
                    {
                        _waiting.Remove(cpu);
                        Peers.Cpu(cpu).Tell(new BarrierPassed(arrive.Name));
                    }
                }
                CheckDeadlock();
                return true;
            case ProcessReady ready:
                Register(new ProcessEntry(ready.Pid, ready.Name, Asid.Of(ready.Pid), ready.StackPointer, ready.Regions));
                return true;
            case CpuFinished finished:
                _finished[finished.Cpu] = finished;
                if (_finished.Count == Peers.Cpus.Length)
                    Collect();
                else
                    CheckDeadlock();
                return true;
            case WorkloadFailed failed:
                End(new RunFailed(failed.Line, failed.Message));
                return true;
            default:
                return Always(message);
        }
    }

    /// <summary>
    /// What the machine takes in whatever it is doing: a failed child ends the run; violations, panics, ends of processes
    /// and moves of regions are noted; anything else breaks the protocol and ends the run as a crash (the machine is the run: it cannot fail
    /// by throwing, which would only restart it).
    /// </summary>
    private bool Always(object message)
    {
        switch (message)
        {
            case KernelPanic panic:
                _panic ??= Resolution.KernelOops.Panic(panic.Cpu, _processes.Values.First(p => p.Pid == panic.Pid).Name, panic.Reason);
                foreach (var cpu in Peers.Cpus)
                    cpu.Tell(Halt.Instance); // a CPU already finished takes no notice
                return true;
            case SimulationFailed failed:
                End(new RunCrashed(failed.Message));
                return true;
            case PartFailed failed when ProtocolException.IsStuck(failed.Message) && UnreachableNode() is { } node: // a wait the lost node stalled; any other failure is the simulation's
                Lose(node, "became unreachable", $"{failed.Message}, while the node was unreachable (not yet downed)", runParts: null);
                return true;
            case PartFailed failed:
                End(new RunCrashed(failed.Message));
                return true;
            case NodeReachability reachability:
                if (reachability.Reachable)
                    _unreachable.Remove(reachability.Node);
                else
                    _unreachable.Add(reachability.Node);
                return true;
            case Terminated stopped:
                OnTerminated(stopped.ActorRef);
                return true;
            case NodeLeaving leaving:
                OnLeaving(leaving.Node, Sender);
                return true;
            case LoadersRetired retired:
                OnRetired(retired);
                return true;
            case LoadsHeld:
                OnHeld();
                return true;
            case NodeHandedOff handedOff:
                Release(handedOff.Node);
                return true;
            case ViolationFound violation:
                _violations.Add(violation.Description);
                return true;
            case ProcessEnded ended:
                var entry = _processes.Values.First(p => p.Pid == ended.Pid);
                _processes[entry.Name] = entry with { Fate = ended.Fate };
                return true;
            case RegionChanged changed: // in any state: from another node, a move may come after the CPU that made it finished
                if (_processes.Values.FirstOrDefault(p => p.Asid == changed.Asid) is { } moved)
                    _processes[moved.Name] = moved with { Regions = moved.Regions.SetItem(changed.Name, (changed.Start, changed.Length)) };
                return true;
            default:
                End(new RunCrashed(ProtocolException.Unexpected(Self.Path.Name, StateName, message).Message));
                return true;
        }
    }

    /// <summary>Every CPU still running waits here for a process never forked or a barrier never reached: the workload cannot go on.</summary>
    private void CheckDeadlock()
    {
        if (!BarrierTable.Deadlocks(Peers.Cpus.Length, _finished.Count, _waiting.Count))
            return;
        var deadlock = BarrierTable.Deadlock(_waiting.Select(w => (w.Key, w.Value)));
        End(new RunFailed(deadlock.Line, deadlock.Message));
    }

    /// <summary>The run is over, with <paramref name="reply"/> for the host; whatever comes later is of no use.</summary>
    private void End(IRunControl reply)
    {
        _requester.Tell(reply);
        Become(nameof(Done), Done);
    }

    /// <summary>The run is over: what still arrives (a CPU's last word, a late report) is of no use; a node that leaves need not wait for it.</summary>
    private bool Done(object message)
    {
        if (message is NodeLeaving)
            Sender.Tell(LeaveAcknowledged.Instance);
        return true;
    }
}

using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Cpu;
using Faultsim.Actors.Disk;
using Faultsim.Actors.Memory;
using Faultsim.Actors.Paging;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Storage;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Actors.Machine;

/// <summary>
/// The simulated machine: parent of every simulation actor and driver of a run. It starts memory,
/// the disk, the loader router, a TLB and a CPU per CPU and an mm per process; finds processes and
/// passes barriers for the CPUs (by the workload's <see cref="BarrierTable"/>); starts forked children; and when every
/// CPU is done, gathers the counts and the final memory into the run's result. A child that fails ends the run at
/// once, whatever state the machine is in.
/// </summary>
// Waiting ──StartRun──▶ Running ──all CPUs finished──▶ CollectingMms ──every report──▶ ReadingMemory
//   ──Contents──▶ ReadingFiles ──WrittenFiles──▶ CollectingStats ──router and every TLB──▶ Done (RunFinished)
// Running ──WorkloadFailed | deadlock──▶ Done (RunFailed);  any state ──SimulationFailed──▶ Done (RunCrashed)
public sealed partial class MachineActor : SimulationActor
{
    private readonly Workload _workload;
    private readonly EngineSettings _settings;
    private readonly ulong _seed;
    private readonly FileTable _files;
    private readonly BarrierTable _barriers;
    private readonly Dictionary<string, ProcessEntry> _processes = [];
    private readonly Dictionary<string, ProcessEntry> _spawning = [];   // forked, not yet ready to run
    private readonly Dictionary<CpuId, (IActorRef Cpu, CpuStep Wait)> _waiting = [];   // at a barrier, or for a process not forked yet
    private readonly SortedSet<string> _neverStarted = new(StringComparer.Ordinal);   // their parent ended before the fork
    private readonly Dictionary<CpuId, CpuFinished> _finished = [];
    private readonly List<string> _violations = [];
    private IActorRef _requester = ActorRefs.Nobody, _memory = ActorRefs.Nobody, _disk = ActorRefs.Nobody, _loaders = ActorRefs.Nobody;
    private ImmutableArray<IActorRef> _tlbs = [], _cpus = [];
    private AddressSpaceSettings _mmSettings = null!;
    private string? _panic;

    public MachineActor(Workload workload, EngineSettings settings, ulong seed) : base(nameof(Waiting))
    {
        (_workload, _settings, _seed) = (workload, settings, seed);
        _files = new FileTable(workload.Files);
        _barriers = new BarrierTable(workload.Machine.Cpus, workload.Scripts);
    }

    public static Props Props(Workload workload, EngineSettings settings, ulong seed) =>
        Akka.Actor.Props.Create(typeof(MachineActor), workload, settings, seed);

    protected override bool Receive(object message) => Waiting(message);

    /// <summary>
    /// A simulation actor that throws has lost state the run depends on (a page table, the frames, a CPU's place in
    /// its script) or broke its protocol: the run cannot be trusted, so it stops and fails with the error. Loaders that
    /// merely crashed are the exception: their router restarts them, and a loader wakes its waiters before it restarts.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(error =>
    {
        Self.Tell(new SimulationFailed(error.Message));
        return Directive.Stop;
    });

    private bool Waiting(object message)
    {
        if (message is not StartRun)
            return Always(message);
        _requester = Sender;
        Start();
        return true;
    }

    /// <summary>Every simulation actor is created here, in a handler, so the run starts only once all exist.</summary>
    private void Start()
    {
        var spec = _workload.Machine;
        _mmSettings = new AddressSpaceSettings(spec.Stack, spec.ZeroPage, _files, spec.Shootdown);
        var run = _settings.Run;
        _memory = Context.ActorOf(MemoryActor.Props(new MemorySettings(spec.Frames, spec.WordsPerPage, spec.Policy, _settings.OptReferences), Self, run), "memory");
        var badPages = spec.Disk.BadPages.Select(b => new FilePage(_files.IdOf(b.File), b.Page)).ToImmutableHashSet();
        _disk = Context.ActorOf(DiskActor.Props(new DiskSettings(_settings.DiskQueueDepth, spec.Disk.ReadErrorRate, badPages, _seed, _settings.DiskLatency, _settings.DiskBandwidth, _settings.TimedDisk),
            spec.WordsPerPage, run), "disk");
        var (memory, disk, self) = (_memory, _disk, Self);
        _loaders = Context.ActorOf(PageLoaderRouter.Props(seed => PageLoaderActor.Props(memory, disk, self, run, seed), run, _seed), "loaders");
        _tlbs = [.. Enumerable.Range(0, spec.Cpus).Select(i => Context.ActorOf(TlbActor.Props(new CpuId(i), spec.TlbEntries, spec.TlbWays, _memory, flushBeforeWalk: spec.Frames > 0, run), $"tlb{i}"))];
        foreach (var process in _workload.Processes)
            Register(StartProcess(Setup(process)));
        _memory.Tell(new ConnectMemory(_loaders, _disk, _processes.Values.ToImmutableDictionary(p => p.Asid, p => p.AddressSpace)));

        var cpuSettings = new CpuSettings(_settings.Quantum, spec.WordsPerPage,
            _workload.ProcessNames.ToImmutableDictionary(n => n, _workload.PidOf));
        _cpus = [.. Enumerable.Range(0, spec.Cpus).Select(i =>
        {
            var ops = _workload.Scripts.FirstOrDefault(s => s.Cpu.Value == i)?.Ops ?? [];
            return Context.ActorOf(CpuActor.Props(new CpuId(i), ops, _tlbs[i], Self, cpuSettings), $"cpu{i}");
        })];
        Become(nameof(Running), Running);
        foreach (var cpu in _cpus)
            cpu.Tell(CpuActor.Start.Instance);
    }

    private AddressSpaceSetup Setup(ProcessSpec process)
    {
        var pid = _workload.PidOf(process.Name);
        var vmas = _files.VmasOf(process, pid, out var shmemObjects);
        return new AddressSpaceSetup(pid, process.Name, Asid.Of(pid), [.. vmas], [],
            process.Regions.ToImmutableDictionary(r => r.Name, r => (r.Start, r.Length)), process.InitialStackPointer, shmemObjects);
    }

    private ProcessEntry StartProcess(AddressSpaceSetup setup)
    {
        var mm = Context.ActorOf(AddressSpaceActor.Props(setup, _mmSettings, Self, _memory, _loaders, _tlbs, _settings.Run), $"mm{setup.Pid.Value}");
        return new ProcessEntry(setup.Pid, setup.Name, setup.Asid, mm, setup.StackPointer, setup.Regions);
    }

    /// <summary>From now on CPUs find the process; those already waiting for it are answered.</summary>
    private void Register(ProcessEntry process)
    {
        _processes[process.Name] = process;
        foreach (var (id, (cpu, _)) in WaitingFor(CpuStepKind.Switch, process.Name))
        {
            _waiting.Remove(id);
            cpu.Tell(Found(process));
        }
    }

    private List<(CpuId Id, (IActorRef Cpu, CpuStep Wait) Entry)> WaitingFor(CpuStepKind kind, string name) =>
        [.. _waiting.Where(w => w.Value.Wait.Kind == kind && w.Value.Wait.Name == name).Select(w => (w.Key, w.Value))];

    private static ProcessFound Found(ProcessEntry p) =>
        new(p.Name, p.Pid, p.Asid, p.AddressSpace, p.StackPointer, p.Regions, p.Fate == ProcessFate.Running);

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
                _waiting[find.Cpu] = (Sender, new CpuStep(CpuStepKind.Switch, find.Name, find.Line));
                CheckDeadlock();
                return true;
            case ForkSkipped skipped:
                _neverStarted.Add(skipped.Child);
                foreach (var (id, (cpu, _)) in WaitingFor(CpuStepKind.Switch, skipped.Child))
                {
                    _waiting.Remove(id);
                    cpu.Tell(new ProcessNeverStarted(skipped.Child));
                }
                return true;
            case ArriveAtBarrier arrive:
                _barriers.Arrive(arrive.Cpu, arrive.Name);
                _waiting[arrive.Cpu] = (Sender, new CpuStep(CpuStepKind.Barrier, arrive.Name, arrive.Line));
                foreach (var (id, (cpu, _)) in WaitingFor(CpuStepKind.Barrier, arrive.Name))
                {
                    if (_barriers.IsOpen(id, arrive.Name))
                    {
                        _waiting.Remove(id);
                        cpu.Tell(new BarrierPassed(arrive.Name));
                    }
                }
                CheckDeadlock();
                return true;
            case SpawnProcess spawn:
                var child = StartProcess(spawn.Setup);
                _spawning[child.Name] = child;
                Sender.Tell(new ProcessSpawned(spawn.RequestId, child.AddressSpace));
                return true;
            case ProcessReady ready:
                if (_spawning.Remove(ready.Name, out var forked))
                    Register(forked);
                return true;
            case CpuFinished finished:
                _finished[finished.Cpu] = finished;
                if (_finished.Count == _cpus.Length)
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
    /// What the machine takes in whatever it is doing: a failed child ends the run; violations, panics and ends of processes
    /// are noted; anything else breaks the protocol and ends the run as a crash (the machine is the run: it cannot fail
    /// by throwing, which would only restart it).
    /// </summary>
    private bool Always(object message)
    {
        switch (message)
        {
            case KernelPanic panic:
                _panic ??= Resolution.KernelOops.Panic(panic.Cpu, _processes.Values.First(p => p.Pid == panic.Pid).Name, panic.Reason);
                foreach (var cpu in _cpus)
                    cpu.Tell(Halt.Instance); // a CPU already finished takes no notice
                return true;
            case SimulationFailed failed:
                End(new RunCrashed(failed.Message));
                return true;
            case ViolationFound violation:
                _violations.Add(violation.Description);
                return true;
            case ProcessEnded ended:
                var entry = _processes.Values.First(p => p.Pid == ended.Pid);
                _processes[entry.Name] = entry with { Fate = ended.Fate };
                return true;
            default:
                End(new RunCrashed(ProtocolException.Unexpected(Self.Path.Name, StateName, message).Message));
                return true;
        }
    }

    /// <summary>Every CPU still running waits here for a process never forked or a barrier never reached: the workload cannot go on.</summary>
    private void CheckDeadlock()
    {
        if (_waiting.Count == 0 || _waiting.Count + _finished.Count < _cpus.Length)
            return;
        var deadlock = BarrierTable.Deadlock(_waiting.Select(w => (w.Key, w.Value.Wait)));
        End(new RunFailed(deadlock.Line, deadlock.Message));
    }

    /// <summary>The run is over, with <paramref name="reply"/> for the host; whatever comes later is of no use.</summary>
    private void End(IRunControl reply)
    {
        _requester.Tell(reply);
        Become(nameof(Done), Done);
    }

    /// <summary>The run is over: what still arrives (a CPU's last word, a late report) is of no use.</summary>
    private static bool Done(object message) => true;
}

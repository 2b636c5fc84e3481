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
/// passes barriers for the CPUs; starts forked children; and when every CPU is done, gathers the
/// counts and the final memory into the run's result.
/// </summary>
// Waiting ──StartRun──▶ Running ──all CPUs finished | panic──▶ Collecting ──reports in──▶ done (RunFinished)
public sealed partial class MachineActor : ReceiveActor
{
    private readonly Workload _workload;
    private readonly EngineSettings _settings;
    private readonly ulong _seed;
    private readonly FileTable _files;
    private readonly Dictionary<string, ProcessEntry> _processes = [];
    private readonly Dictionary<string, ProcessEntry> _spawning = [];   // forked, not yet ready to run
    private readonly Dictionary<string, List<(IActorRef Cpu, CpuId Id, int Line)>> _awaitingProcess = [];
    private readonly SortedSet<string> _neverStarted = new(StringComparer.Ordinal);   // their parent ended before the fork
    private readonly Dictionary<string, int[]> _arrivals = [];
    private readonly Dictionary<string, bool[]> _participants = [];
    private readonly Dictionary<CpuId, (IActorRef Cpu, string Barrier, int Line)> _atBarrier = [];
    private readonly Dictionary<CpuId, CpuFinished> _finished = [];
    private readonly List<string> _violations = [];
    private IActorRef _requester = ActorRefs.Nobody, _memory = ActorRefs.Nobody, _disk = ActorRefs.Nobody, _loaders = ActorRefs.Nobody;
    private ImmutableArray<IActorRef> _tlbs = [], _cpus = [];
    private AddressSpaceSettings _mmSettings = null!;
    private string? _panic;
    private long _messages;

    public MachineActor(Workload workload, EngineSettings settings, ulong seed)
    {
        (_workload, _settings, _seed) = (workload, settings, seed);
        _files = new FileTable(workload.Files);
        Receive<StartRun>(_ => Start());
    }

    public static Props Props(Workload workload, EngineSettings settings, ulong seed) =>
        Akka.Actor.Props.Create(typeof(MachineActor), workload, settings, seed);

    protected override bool AroundReceive(Receive receive, object message)
    {
        _messages++;
        return base.AroundReceive(receive, message);
    }

    /// <summary>
    /// A simulation actor that throws has lost state the run depends on (a page table, the frames, a CPU's place in
    /// its script): the run cannot be trusted, so it stops and fails with the error. Loaders are the exception: their
    /// router restarts them, and a loader wakes its waiters before it restarts.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(error =>
    {
        Self.Tell(new SimulationFailed(error.Message));
        return Directive.Stop;
    });

    /// <summary>Every simulation actor is created here, in a handler, so the run starts only once all exist.</summary>
    private void Start()
    {
        _requester = Sender;
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
            foreach (var barrier in ops.OfType<Op.Barrier>())
            {
                if (!_participants.TryGetValue(barrier.Name, out var who))
                {
                    _participants[barrier.Name] = who = new bool[spec.Cpus];
                    _arrivals[barrier.Name] = new int[spec.Cpus];
                }
                who[i] = true;
            }
            return Context.ActorOf(CpuActor.Props(new CpuId(i), ops, _tlbs[i], Self, cpuSettings), $"cpu{i}");
        })];
        Become(Running);
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
        if (_awaitingProcess.Remove(process.Name, out var waiting))
        {
            foreach (var (cpu, _, _) in waiting)
                cpu.Tell(Found(process));
        }
    }

    private static ProcessFound Found(ProcessEntry p) =>
        new(p.Name, p.Pid, p.Asid, p.AddressSpace, p.StackPointer, p.Regions, p.Fate == ProcessFate.Running);

    private void Running()
    {
        Receive<FindProcess>(find =>
        {
            if (_processes.TryGetValue(find.Name, out var process))
            {
                Sender.Tell(Found(process));
                return;
            }
            if (_neverStarted.Contains(find.Name))
            {
                Sender.Tell(new ProcessNeverStarted(find.Name));
                return;
            }
            (_awaitingProcess.TryGetValue(find.Name, out var list) ? list : _awaitingProcess[find.Name] = []).Add((Sender, find.Cpu, find.Line));
            CheckDeadlock();
        });
        Receive<ForkSkipped>(skipped =>
        {
            _neverStarted.Add(skipped.Child);
            if (_awaitingProcess.Remove(skipped.Child, out var waiting))
            {
                foreach (var (cpu, _, _) in waiting)
                    cpu.Tell(new ProcessNeverStarted(skipped.Child));
            }
        });
        Receive<ArriveAtBarrier>(arrive =>
        {
            _arrivals[arrive.Name][arrive.Cpu.Value]++;
            _atBarrier[arrive.Cpu] = (Sender, arrive.Name, arrive.Line);
            ReleaseBarrier(arrive.Name);
            CheckDeadlock();
        });
        Receive<SpawnProcess>(spawn =>
        {
            var child = StartProcess(spawn.Setup);
            _spawning[child.Name] = child;
            Sender.Tell(new ProcessSpawned(spawn.RequestId, child.AddressSpace));
        });
        Receive<ProcessReady>(ready =>
        {
            if (_spawning.Remove(ready.Name, out var child))
                Register(child);
        });
        Receive<ProcessEnded>(ended =>
        {
            var entry = _processes.Values.First(p => p.Pid == ended.Pid);
            _processes[entry.Name] = entry with { Fate = ended.Fate };
        });
        Receive<CpuFinished>(finished =>
        {
            _finished[finished.Cpu] = finished;
            if (_finished.Count == _cpus.Length)
                Collect();
            else
                CheckDeadlock();
        });
        Receive<KernelPanic>(panic =>
        {
            _panic ??= Resolution.KernelOops.Panic(panic.Cpu, _processes.Values.First(p => p.Pid == panic.Pid).Name, panic.Reason);
            foreach (var cpu in _cpus)
                cpu.Tell(Halt.Instance);
        });
        Receive<WorkloadFailed>(failed => Fail(failed.Line, failed.Message));
        Receive<SimulationFailed>(failed => _requester.Tell(new RunCrashed(failed.Message)));
        Receive<ViolationFound>(v => _violations.Add(v.Description));
    }

    private void ReleaseBarrier(string name)
    {
        var (arrivals, participants) = (_arrivals[name], _participants[name]);
        var minimum = Enumerable.Range(0, arrivals.Length).Where(i => participants[i]).Min(i => arrivals[i]);
        foreach (var (id, (cpu, barrier, _)) in _atBarrier.ToList())
        {
            if (barrier == name && arrivals[id.Value] <= minimum)
            {
                _atBarrier.Remove(id);
                cpu.Tell(new BarrierPassed(name));
            }
        }
    }

    /// <summary>Every CPU still running waits here for a process never forked or a barrier never reached: the workload cannot go on.</summary>
    private void CheckDeadlock()
    {
        var waiting = _atBarrier.Count + _awaitingProcess.Values.Sum(l => l.Count);
        if (waiting == 0 || waiting + _finished.Count < _cpus.Length)
            return;
        // The same words as the reference machine's, CPU by CPU.
        var reasons = _awaitingProcess.SelectMany(kv => kv.Value.Select(w => (w.Id, Text: $"cpu {w.Id.Value} waits for process '{kv.Key}' (line {w.Line}), which is never forked", w.Line)))
            .Concat(_atBarrier.Select(kv => (Id: kv.Key, Text: $"cpu {kv.Key.Value} waits at barrier '{kv.Value.Barrier}' (line {kv.Value.Line}), which another CPU never reaches", kv.Value.Line)))
            .OrderBy(r => r.Id.Value).ToList();
        var line = reasons[0].Line;
        Fail(line, "the workload deadlocks: " + string.Join("; ", reasons.Select(r => r.Text)));
    }

    private void Fail(int? line, string message)
    {
        _requester.Tell(new RunFailed(line, message));
        Become(() => ReceiveAny(_ => { }));
    }
}

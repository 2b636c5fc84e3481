using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;
using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;

namespace Faultsim.Actors.Cpu;

/// <summary>
/// One simulated CPU carrying out its script's <see cref="CpuProgram"/> (which says what comes next, with every address and
/// store value resolved) for the process scheduled on it. Accesses go to its TLB a quantum at a time (the TLB raises and
/// waits out the faults); system calls and region lookups go to the process's mm; runs and barriers to the machine.
/// The CPU itself never resolves a fault, allocates a frame or counts an acknowledgement.
/// </summary>
// Idle ──Start──▶ Stepping (a method: the program's steps that need nobody, until one needs another actor)
// Stepping ──access──▶ AwaitingQuantum ──QuantumExecuted──▶ Stepping
// Stepping ──call──▶ AwaitingCall ──SyscallReturned──▶ Stepping
// Stepping ──unknown region──▶ AwaitingRegion ──RegionFound──▶ Stepping | NoSuchRegion (the workload failed)
// Stepping ──run──▶ AwaitingProcess ──ProcessFound | ProcessNeverStarted──▶ Stepping
//   (a cluster run: ProcessFound ──▶ AwaitingAttach ──CpuAttachAcknowledged──▶ Stepping)
// Stepping ──barrier──▶ AwaitingBarrier ──BarrierPassed──▶ Stepping
// Stepping ──script done | panic──▶ Finished;  Halt: at the machine ──▶ Finished at once,
//   at the TLB or the mm ──▶ the same state, halted: its answer (what it counted) comes in, then Finished
public sealed class CpuActor : SimulationActor
{
    private readonly CpuProgram _program;
    private readonly int _quantum;
    private readonly Dictionary<ProcessId, QuantumStats> _stats = [];
    private readonly List<ScriptAccess> _accesses;
    private readonly Receive _regionChanged;
    private readonly bool _acrossNodes;
    private Running? _process;
    private long _requests;

    // The CPU's own waits are unbounded: those at the TLB and the mm are bounded where they wait (the TLB, the mm), and
    // one at the machine lasts as long as another CPU's script may.
    public CpuActor(CpuId id, ImmutableArray<Op> ops, CpuSettings settings) : base(nameof(Idle), coverage: settings.Coverage, traffic: settings.Traffic)
    {
        _program = new CpuProgram(id, ops, settings.WordsPerPage, name => settings.Pids[name]);
        _regionChanged = OnRegionChanged;
        _quantum = settings.Quantum;
        _acrossNodes = settings.Traffic is not null;
        _accesses = new List<ScriptAccess>(settings.Quantum);
    }

    public static Props Props(CpuId id, ImmutableArray<Op> ops, CpuSettings settings) =>
        ActorFactory.Props(() => new CpuActor(id, ops, settings));

    private CpuId Id => _program.Cpu;

    protected override bool Receive(object message) => Idle(message);

    /// <summary>A region of a process moved, whatever the CPU is doing: its program uses it where it is now if it runs that process.</summary>
    protected override bool AroundReceive(Receive receive, object message) =>
        base.AroundReceive(message is RegionChanged ? _regionChanged : receive, message);

    private bool OnRegionChanged(object message)
    {
        var changed = (RegionChanged)message;
        if (_process?.Asid == changed.Asid)
            _program.Learn(changed.Name, changed.Start, changed.Length);
        return true;
    }

    private bool Idle(object message)
    {
        switch (message)
        {
            case Start:
                Step();
                return true;
            case Halt:
                return Finish();
            default:
                return false;
        }
    }

    /// <summary>Carries the program out until a step needs another actor (then waits in that step's state) or the script is done.</summary>
    private void Step()
    {
        while (true)
        {
            var step = _program.Next();
            switch (step.Kind)
            {
                case CpuStepKind.Done:
                    Finish();
                    return;
                case CpuStepKind.ForkSkipped:
                    Peers.Machine.Tell(new ForkSkipped(Id, step.Name!));
                    _program.ForkSkipped();
                    continue;
                case CpuStepKind.Switch:
                    Peers.Machine.Tell(new FindProcess(Id, step.Name!, step.Line));
                    Become(nameof(AwaitingProcess), AwaitingProcess);
                    return;
                case CpuStepKind.Barrier:
                    TellMachineAfterAccesses(new ArriveAtBarrier(Id, step.Name!, step.Line));
                    Become(nameof(AwaitingBarrier), AwaitingBarrier);
                    return;
                case CpuStepKind.NeedRegion:
                    MmOf(_process!).Tell(new LookupRegion(step.Name!));
                    var (region, line) = (step.Name!, step.Line);
                    Become(nameof(AwaitingRegion), m => AwaitingRegion(m, region, line, halted: false));
                    return;
                case CpuStepKind.Access:
                    Execute();
                    return;
                case CpuStepKind.Call:
                    Call(step.Call!);
                    return;
            }
        }
    }

    /// <summary>Hands the TLB the accesses from here on, up to a quantum, as far as their regions are known.</summary>
    private void Execute()
    {
        _accesses.Clear();
        var count = _program.PeekAccesses(_accesses, _quantum);
        var id = new QuantumId(++_requests);
        var p = _process!;
        Peers.Tlb(Id).Tell(new ExecuteQuantum(id, p.Pid, p.Asid, _program.StackPointer, [.. _accesses]));
        Become(nameof(AwaitingQuantum), m => AwaitingQuantum(m, id, count, halted: false));
    }

    private void Call(SystemCall call)
    {
        var id = new SyscallId(++_requests);
        MmOf(_process!).Tell(new Syscall(id, Id, call, _program.StackPointer));
        Become(nameof(AwaitingCall), m => AwaitingCall(m, id, halted: false));
    }

    private bool AwaitingQuantum(object message, QuantumId id, int count, bool halted)
    {
        switch (message)
        {
            case QuantumExecuted executed when executed.Id == id:
                var p = _process!;
                _stats[p.Pid] = (_stats.TryGetValue(p.Pid, out var s) ? s : QuantumStats.Zero).Plus(executed.Stats);
                // An access that ended the quantum early was attempted: its store value is spent and its operation ends.
                _program.Accessed(executed.Completed, endedEarly: executed.End != QuantumEnd.Completed);
                if (executed.End == QuantumEnd.ProcessEnded)
                    _program.ProcessEnded();
                return executed.End == QuantumEnd.Panic ? Finish() : Resume(halted);
            case Halt:
                Become(nameof(AwaitingQuantum), m => AwaitingQuantum(m, id, count, halted: true)); // what the quantum counted is still to come
                return true;
            default:
                return false;
        }
    }

    private bool AwaitingCall(object message, SyscallId id, bool halted)
    {
        switch (message)
        {
            case SyscallReturned returned when returned.Id == id:
                _program.CallReturned(processEnded: returned.Fate != ProcessFate.Running, returned.Failed, returned.Remapped);
                return Resume(halted);
            case Halt:
                Become(nameof(AwaitingCall), m => AwaitingCall(m, id, halted: true));
                return true;
            default:
                return false;
        }
    }

    private bool AwaitingRegion(object message, string region, int line, bool halted)
    {
        switch (message)
        {
            case RegionFound found when found.Name == region && found.Length > 0:
                _program.Learn(found.Name, found.Start, found.Length);
                return Resume(halted);
            case RegionFound found when found.Name == region:
                Peers.Machine.Tell(new WorkloadFailed(line, CpuProgram.NoRegion(_process!.Name, region)));
                if (halted)
                    return Finish();
                Become(nameof(NoSuchRegion), NoSuchRegion);
                return true;
            case Halt:
                Become(nameof(AwaitingRegion), m => AwaitingRegion(m, region, line, halted: true));
                return true;
            default:
                return false;
        }
    }

    /// <summary>The workload failed here: the CPU waits for the machine to halt it.</summary>
    private bool NoSuchRegion(object message) => message is Halt && Finish();

    private bool AwaitingProcess(object message)
    {
        switch (message)
        {
            case ProcessFound found:
                _process = new Running(found.Name, found.Pid, found.Asid);
                MmOf(_process).Tell(new CpuAttached(Id, Acknowledge: _acrossNodes)); // before any walk of this CPU can reach the mm
                if (_acrossNodes)
                {
                    Become(nameof(AwaitingAttach), m => AwaitingAttach(m, found));
                    return true;
                }
                return Switched(found);
            case ProcessNeverStarted:
                _process = null;
                _program.NeverStarted();
                return Resume(halted: false);
            case Halt:
                return Finish(); // nothing of this CPU's is out
            default:
                return false;
        }
    }

    /// <summary>A cluster run: the CPU goes on once the mm has it in its mask, as switch_mm sets the mask before the CPU runs on.</summary>
    private bool AwaitingAttach(object message, ProcessFound found)
    {
        switch (message)
        {
            case CpuAttachAcknowledged acknowledged when acknowledged.Asid == found.Asid:
                return Switched(found);
            case Halt:
                return Finish(); // the acknowledgement, when it comes, is of no use
            default:
                return false;
        }
    }

    private bool Switched(ProcessFound found)
    {
        _program.Switched(found.Name, found.Alive, found.StackPointer, new Dictionary<string, (VirtualAddress, ulong)>(found.Regions));
        return Resume(halted: false);
    }

    private bool AwaitingBarrier(object message)
    {
        switch (message)
        {
            case BarrierPassed:
                _program.BarrierPassed();
                return Resume(halted: false);
            case Halt:
                return Finish();
            default:
                return false;
        }
    }

    /// <summary>A reply came in: go on stepping, unless the machine halted the CPU meanwhile.</summary>
    private bool Resume(bool halted)
    {
        if (halted)
            return Finish();
        Step();
        return true;
    }

    private bool Finish()
    {
        TellMachineAfterAccesses(new CpuFinished(Id, _stats.ToImmutableDictionary(), _program.Steps, MessagesReceived));
        Become(nameof(Finished), Finished);
        return true;
    }

    /// <summary>A message the machine must get after every access of this CPU has reached memory (see <see cref="AfterAccesses"/>).</summary>
    private void TellMachineAfterAccesses(ICpuProtocol message)
    {
        if (_acrossNodes)
            Peers.Tlb(Id).Tell(new AfterAccesses(message));
        else
            Peers.Machine.Tell(message);
    }

    /// <summary>Late replies after a halt are of no use.</summary>
    private static bool Finished(object message) => true;

    /// <summary>The process this CPU runs, as the machine found it.</summary>
    private sealed record Running(string Name, ProcessId Pid, Asid Asid);

    private IActorRef MmOf(Running process) => Peers.AddressSpace(process.Asid);

    /// <summary>Machine → CPU: begin the script.</summary>
    public sealed record Start : ICpuProtocol
    {
        public static readonly Start Instance = new();
    }
}

/// <summary>What a CPU needs besides its script.</summary>
/// <param name="Coverage">Where the CPU notes each (state, message) it handles (explore's coverage); null: nowhere.</param>
public sealed record CpuSettings(int Quantum, int WordsPerPage, ImmutableDictionary<string, ProcessId> Pids, Monitoring.ProtocolCoverage? Coverage = null)
{
    /// <summary>
    /// Where the CPU counts the messages it gets from other nodes (a cluster run); null: not counted. A CPU of a cluster
    /// run also sends what must follow its accesses or its joining a mask along the paths that keep that order.
    /// </summary>
    public CrossNodeTraffic? Traffic { get; init; }
}

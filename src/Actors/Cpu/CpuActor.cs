using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Machine;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Actors.Cpu;

/// <summary>
/// One simulated CPU running its script for the process scheduled on it. Accesses go to its TLB a
/// quantum at a time (the TLB raises and waits out the faults); system calls go to the process's mm.
/// The CPU itself never resolves a fault, allocates a frame or counts an acknowledgement.
/// </summary>
// Stepping ──access──▶ AwaitingQuantum ──QuantumExecuted──▶ Stepping
// Stepping ──syscall──▶ AwaitingSyscall;  ──run──▶ AwaitingProcess;  ──barrier──▶ AwaitingBarrier
// Stepping ──script done | Halt──▶ Finished
public sealed class CpuActor : SimulationActor
{
    private readonly CpuId _id;
    private readonly ImmutableArray<Op> _ops;
    private readonly IActorRef _tlb, _machine;
    private readonly CpuSettings _settings;
    private readonly Dictionary<ProcessId, QuantumStats> _stats = [];
    private Dictionary<string, (VirtualAddress Start, ulong Length)> _regions = [];
    private Running? _process;
    private int _pc;
    private long _sub, _steps, _requests;
    private Func<object, bool> _awaited = _ => false;
    private ulong _stores;
    private bool _halted, _waitingAtMachine;

    public CpuActor(CpuId id, ImmutableArray<Op> ops, IActorRef tlb, IActorRef machine, CpuSettings settings) : base(nameof(Stepping))
    {
        (_id, _ops, _tlb, _machine, _settings) = (id, ops, tlb, machine, settings);
    }

    public static Props Props(CpuId id, ImmutableArray<Op> ops, IActorRef tlb, IActorRef machine, CpuSettings settings) =>
        Akka.Actor.Props.Create(typeof(CpuActor), id, ops, tlb, machine, settings);

    protected override bool Receive(object message) => Stepping(message);

    /// <summary>Runs operations until one has to wait for another actor.</summary>
    private void Step()
    {
        while (_pc < _ops.Length && !_halted)
        {
            var op = _ops[_pc];
            switch (op)
            {
                case Op.Run run:
                    _machine.Tell(new FindProcess(_id, run.Process, run.Line));
                    AwaitMachine(m => m switch
                    {
                        ProcessFound found => Resume(() => Switch(found)),
                        ProcessNeverStarted => Resume(() => { _process = null; Advance(); }),
                        _ => false,
                    });
                    return;
                case Op.Barrier barrier:
                    _machine.Tell(new ArriveAtBarrier(_id, barrier.Name, barrier.Line));
                    AwaitMachine(m => m is BarrierPassed && Resume(Advance));
                    return;
                case var _ when _process is not { Alive: true }:
                    if (op is Op.Fork skipped)
                        _machine.Tell(new ForkSkipped(_id, skipped.Child));
                    Advance(); // the process this CPU ran is gone: its remaining operations are skipped
                    continue;
                case Op.SetStackPointer sp:
                    if (!TryResolve(sp.Address, out var address))
                        return;
                    _process.StackPointer = address;
                    Advance();
                    continue;
                case Op.Access:
                    if (BuildQuantum() is { } quantum)
                        Execute(quantum);
                    return;
                default:
                    if (SyscallFor(op) is { } request)
                        Call(request);
                    return;
            }
        }
        Finish();
    }

    private void Switch(ProcessFound found)
    {
        _process = new Running(found.Name, found.Pid, found.Asid, found.AddressSpace, found.Alive) { StackPointer = found.StackPointer };
        found.AddressSpace.Tell(new CpuAttached(_id)); // before any walk of this CPU can reach the mm
        _regions = new Dictionary<string, (VirtualAddress, ulong)>(found.Regions);
        Advance();
    }

    /// <summary>The next accesses, up to a quantum, from this op and the access ops after it.</summary>
    private PendingQuantum? BuildQuantum()
    {
        var accesses = ImmutableArray.CreateBuilder<MemoryAccess>(_settings.Quantum);
        var positions = new List<(int Pc, long Sub, ulong StoresAfter)>(_settings.Quantum);
        var (pc, sub, stores) = (_pc, _sub, _stores);
        var (basePc, baseAddress) = (-1, default(VirtualAddress));
        while (accesses.Count < _settings.Quantum && pc < _ops.Length && _ops[pc] is Op.Access access)
        {
            if (basePc != pc)
            {
                if (!TryBase(access, lookUp: accesses.Count == 0, out baseAddress))
                    return accesses.Count == 0 ? null : new PendingQuantum(accesses.ToImmutable(), positions);
                basePc = pc;
            }
            var address = access.Target is AccessTarget.Pages pages
                ? baseAddress + (pages.First + (ulong)sub) * VirtualAddress.PageSize + OwnWordOffset
                : baseAddress;
            var value = access.Kind == AccessKind.Write ? access.Value ?? (((ulong)(_id.Value + 1) << 40) | ++(stores)) : 0;
            accesses.Add(new MemoryAccess(address, access.Kind, access.Mode, value));
            positions.Add((pc, sub, stores));
            if (++sub >= access.Target.Count)
                (pc, sub) = (pc + 1, 0);
        }
        return new PendingQuantum(accesses.ToImmutable(), positions);
    }

    private void Execute(PendingQuantum quantum)
    {
        var p = _process!;
        var id = new QuantumId(++_requests);
        _tlb.Tell(new ExecuteQuantum(id, p.Pid, p.Asid, p.AddressSpace, p.StackPointer, quantum.Accesses));
        Await(m => m is QuantumExecuted executed && executed.Id == id && Executed(quantum, executed));
    }

    private bool Executed(PendingQuantum quantum, QuantumExecuted executed)
    {
        var p = _process!;
        _stats[p.Pid] = (_stats.TryGetValue(p.Pid, out var s) ? s : QuantumStats.Zero).Plus(executed.Stats);
        var done = executed.Completed;
        _steps += done + (executed.End == QuantumEnd.Completed ? 0 : 1); // an access is a step, the one that ended the quantum too
        if (executed.End == QuantumEnd.Completed)
        {
            var last = quantum.Positions[^1];
            (_pc, _sub, _stores) = (last.Pc, last.Sub, last.StoresAfter);
            AdvanceAccess();
        }
        else
        {
            // The access at `done` was attempted: its store value is spent, and its operation ends with it.
            var at = quantum.Positions[done];
            (_pc, _sub, _stores) = (at.Pc + 1, 0, at.StoresAfter);
            if (executed.End == QuantumEnd.ProcessEnded)
                p.Alive = false;
            if (executed.End == QuantumEnd.Panic)
            {
                Finish();
                return true;
            }
        }
        return Resume(() => { });
    }

    private void AdvanceAccess()
    {
        var access = (Op.Access)_ops[_pc];
        if (++_sub >= access.Target.Count)
            (_pc, _sub) = (_pc + 1, 0);
    }

    private SyscallRequest? SyscallFor(Op op)
    {
        var p = _process!;
        switch (op)
        {
            case Op.Map map:
                if (!TryResolve(map.Start, out var start))
                    return null;
                if (AddressSpace.CanMap(start, map.Length))
                    _regions[map.Name] = (start, map.Length); // the mm refuses the rest (EINVAL)
                return new SyscallRequest.Mmap(map.Name, start, map.Length, map.Flags, map.File, map.FileOffset);
            case Op.Unmap unmap:
                return TryRange(unmap.Range, out var u) ? new SyscallRequest.Munmap(u.Start, u.End) : null;
            case Op.Protect protect:
                return TryRange(protect.Range, out var r) ? new SyscallRequest.Mprotect(r.Start, r.End, protect.Protection) : null;
            case Op.Advise advise:
                return TryRange(advise.Range, out var a) ? new SyscallRequest.Madvise(a.Start, a.End, advise.Advice) : null;
            case Op.Fork fork:
                var child = _settings.Pids[fork.Child];
                return new SyscallRequest.Fork(fork.Child, child, ReferenceMachine.AsidOf(child), p.StackPointer);
            case Op.Exit:
                return SyscallRequest.Exit.Instance;
            default:
                throw new InvalidOperationException($"not a system call: {op}");
        }
    }

    private void Call(SyscallRequest request)
    {
        var id = new SyscallId(++_requests);
        _process!.AddressSpace.Tell(new Syscall(id, _id, request));
        Await(m => m is SyscallReturned returned && returned.Id == id && Resume(() =>
        {
            if (returned.Fate != ProcessFate.Running || request is SyscallRequest.Exit)
                _process!.Alive = false;
            Advance();
        }));
    }

    /// <summary>
    /// Where an access op's target starts: its address, or the start of its page range's region. A region not known
    /// yet is looked up only when <paramref name="lookUp"/> (the step then waits).
    /// </summary>
    private bool TryBase(Op.Access access, bool lookUp, out VirtualAddress address)
    {
        var expr = access.Target switch
        {
            AccessTarget.Pages pages => new AddressExpr(pages.Region, 0),
            AccessTarget.At at => at.Address,
            _ => throw new InvalidOperationException($"no address for {access.Target}"),
        };
        address = default;
        if (!lookUp && expr.Region is { } name && !_regions.ContainsKey(name))
            return false;
        return TryResolve(expr, out address);
    }

    /// <summary>The byte offset of this CPU's own word in any page, so CPUs sharing a page never overwrite each other.</summary>
    private ulong OwnWordOffset => (ulong)(_id.Value % _settings.WordsPerPage) * sizeof(ulong);

    private bool TryRange(RangeExpr range, out (VirtualAddress Start, VirtualAddress End) resolved)
    {
        resolved = default;
        if (!TryResolve(range.Start, out var start))
            return false;
        var length = range.Length ?? _regions[range.Start.Region!].Length;
        resolved = (start.PageAlignedDown, new VirtualAddress(start.Value + length + VirtualAddress.OffsetMask).PageAlignedDown);
        return true;
    }

    /// <summary>Resolves a script address; a region this CPU does not know yet is asked of the mm (and the step waits).</summary>
    private bool TryResolve(AddressExpr expr, out VirtualAddress address)
    {
        address = default;
        if (expr.Region is null)
        {
            address = new VirtualAddress((ulong)expr.Offset);
            return true;
        }
        if (_regions.TryGetValue(expr.Region, out var region))
        {
            address = new VirtualAddress((ulong)((long)region.Start.Value + expr.Offset));
            return true;
        }
        var line = _ops[_pc].Line;
        _process!.AddressSpace.Tell(new LookupRegion(expr.Region));
        Await(m => m is RegionFound found && found.Name == expr.Region && (found.Length > 0
            ? Resume(() => _regions[found.Name] = (found.Start, found.Length))
            : Stop(line, found.Name)));
        return false;
    }

    /// <summary>An operation other than an access is done (or skipped): one step.</summary>
    private void Advance()
    {
        _pc++;
        _sub = 0;
        _steps++;
    }

    private bool Stepping(object message)
    {
        switch (message)
        {
            case Start:
                Step();
                return true;
            case Halt:
                Finish();
                return true;
            default:
                return false;
        }
    }

    /// <summary>A reply arrived: take it in, then go on stepping.</summary>
    private bool Resume(Action takeIn)
    {
        takeIn();
        Become(nameof(Stepping), Stepping);
        Step();
        return true;
    }

    private bool Stop(int line, string region)
    {
        _machine.Tell(new WorkloadFailed(line, $"process '{_process!.Name}' has no region '{region}' at this point; declare or mmap it in this process first"));
        Become("Stopped", m => m is Halt && Finish());
        return true;
    }

    /// <summary>Waits for one reply (<paramref name="reply"/> says whether a message is it); a halt ends the CPU whatever it waits for.</summary>
    private void Await(Func<object, bool> reply)
    {
        _awaited = reply;
        _waitingAtMachine = false;
        Become(nameof(Awaiting), Awaiting);
    }

    private void AwaitMachine(Func<object, bool> reply)
    {
        Await(reply);
        _waitingAtMachine = true;
    }

    /// <summary>
    /// A halt while a quantum or a system call is out waits for its answer, so that what it counted is reported;
    /// a wait at the machine (for a process, at a barrier) ends at once.
    /// </summary>
    private bool Awaiting(object message)
    {
        if (message is not Halt)
            return _awaited(message);
        if (_waitingAtMachine)
            return Finish();
        _halted = true;
        return true;
    }

    private bool Finish()
    {
        _machine.Tell(new CpuFinished(_id, _stats.ToImmutableDictionary(), _steps, MessagesReceived));
        Become("Finished", _ => true); // late replies after a halt are of no use
        return true;
    }

    /// <summary>The process this CPU runs.</summary>
    private sealed class Running(string name, ProcessId pid, Asid asid, IActorRef addressSpace, bool alive)
    {
        public string Name { get; } = name;
        public ProcessId Pid { get; } = pid;
        public Asid Asid { get; } = asid;
        public IActorRef AddressSpace { get; } = addressSpace;
        public bool Alive { get; set; } = alive;
        public VirtualAddress StackPointer { get; set; }
    }

    private sealed record PendingQuantum(ImmutableArray<MemoryAccess> Accesses, List<(int Pc, long Sub, ulong StoresAfter)> Positions);

    /// <summary>Machine → CPU: begin the script.</summary>
    public sealed record Start : ICpuProtocol
    {
        public static readonly Start Instance = new();
    }
}

/// <summary>What a CPU needs besides its script.</summary>
public sealed record CpuSettings(int Quantum, int WordsPerPage, ImmutableDictionary<string, ProcessId> Pids);

using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Workloads;

/// <summary>A system call of a CPU's script, its arguments resolved: addresses from regions, ranges rounded to pages.</summary>
public abstract record SystemCall
{
    private SystemCall() { }

    /// <summary>mmap(MAP_FIXED) of <paramref name="Length"/> bytes at <paramref name="Start"/> (of <paramref name="File"/> from <paramref name="FileOffset"/>, or anonymous), remembered as region <paramref name="Name"/>.</summary>
    public sealed record Mmap(string Name, VirtualAddress Start, ulong Length, VmaFlags Flags, string? File, ulong FileOffset) : SystemCall
    {
        /// <summary>The flags of the VMA it maps: its own without <see cref="VmaFlags.Populate"/>, which is the call's.</summary>
        public VmaFlags VmaFlags() => Flags & ~Vmas.VmaFlags.Populate;

        /// <summary>Whether the call faults its pages in before it returns: MAP_POPULATE, or MAP_LOCKED (which populates too).</summary>
        public bool Populates() => (Flags & (Vmas.VmaFlags.Populate | Vmas.VmaFlags.Locked)) != 0;
    }

    public sealed record Munmap(VirtualAddress Start, VirtualAddress End) : SystemCall;

    public sealed record Mprotect(VirtualAddress Start, VirtualAddress End, VmaFlags Protection) : SystemCall;

    public sealed record Madvise(VirtualAddress Start, VirtualAddress End, Advice Advice) : SystemCall;

    /// <summary>mlock (<paramref name="Locks"/>) or munlock of [<paramref name="Start"/>, <paramref name="End"/>), the start rounded down to a page as Linux rounds it.</summary>
    public sealed record Mlock(VirtualAddress Start, VirtualAddress End, bool Locks) : SystemCall;

    /// <summary>
    /// mremap of region <paramref name="Region"/>, now <paramref name="Length"/> bytes at <paramref name="Start"/>, to
    /// <paramref name="NewLength"/> bytes (<see cref="AddressSpace.Remap"/>); <paramref name="MayMove"/>: MREMAP_MAYMOVE.
    /// </summary>
    public sealed record Mremap(string Region, VirtualAddress Start, ulong Length, ulong NewLength, bool MayMove) : SystemCall;

    /// <summary>fork: a child process <paramref name="Child"/> (pid <paramref name="ChildPid"/>) with copy-on-write copies of every private page.</summary>
    public sealed record Fork(string Child, ProcessId ChildPid) : SystemCall;

    public sealed record Exit : SystemCall
    {
        public static readonly Exit Instance = new();
    }
}

/// <summary>One access of a CPU's script: where, what, by whom, and the value a store writes.</summary>
public readonly record struct ScriptAccess(VirtualAddress Address, AccessKind Kind, AccessMode Mode, ulong Value);

/// <summary>The kinds of <see cref="CpuStep"/>.</summary>
public enum CpuStepKind
{
    /// <summary>The script is done.</summary>
    Done,
    /// <summary>Run process <see cref="CpuStep.Name"/> from now on (once it exists: a fork may create it).</summary>
    Switch,
    /// <summary>Wait at barrier <see cref="CpuStep.Name"/> until every CPU whose script names it has arrived as often.</summary>
    Barrier,
    /// <summary>Perform <see cref="CpuStep.Access"/>.</summary>
    Access,
    /// <summary>Make the system call <see cref="CpuStep.Call"/>.</summary>
    Call,
    /// <summary>The process is gone before it forked <see cref="CpuStep.Name"/>: the child will never run.</summary>
    ForkSkipped,
    /// <summary>The operation names region <see cref="CpuStep.Name"/>, which this CPU does not know: another thread may have mapped it (or nobody did).</summary>
    NeedRegion,
}

/// <summary>What a CPU does next, as <see cref="CpuProgram.Next"/> says (a value: one is made for every access).</summary>
public readonly record struct CpuStep(CpuStepKind Kind, string? Name = null, int Line = 0, ScriptAccess Access = default, SystemCall? Call = null);

/// <summary>
/// One CPU's script as the workload means it, for every engine alike: where it is, the process it runs and the regions
/// it knows of, each access's address (a page range touches each page at the CPU's own word, so CPUs sharing a page
/// never overwrite each other) and the value a store writes, each system call's resolved arguments, and the steps done.
/// The engine carries the steps out — at once (the reference machine) or as messages (the actor engine) — and tells
/// the program how each ended. A replay (<see cref="Op.Replay"/>, a program's trace) is read a batch at a time as its
/// accesses are done, never held whole: the program opens its source when the replay comes up and closes it at its end.
/// A stream (<see cref="Op.Stream"/>, a generator's operations) is read an operation at a time (<see cref="OpCursor"/>).
/// </summary>
public sealed class CpuProgram
{
    private readonly OpCursor _ops;
    private readonly int _wordsPerPage;
    private readonly Func<string, ProcessId> _pidOf;
    private IDictionary<string, (VirtualAddress Start, ulong Length)> _regions = new Dictionary<string, (VirtualAddress, ulong)>();
    private long _sub;          // the access at hand of a page range, or of the replay's batch
    private ulong _stores;
    private SystemCall? _call;                      // the call made last, until it returns
    private VirtualAddress _populateFrom;           // the populate at hand (mlock, MAP_POPULATE): its first page,
    private long _populatePages;                    // and how many pages it faults in; _sub is the page at hand
    private IAccessReader? _reader;                 // the replay at hand, once it is opened
    private ArraySegment<TracedAccess> _batch;      // its accesses read last, those before _sub done

    public CpuProgram(CpuId cpu, ImmutableArray<Op> ops, int wordsPerPage, Func<string, ProcessId> pidOf)
    {
        (Cpu, _ops, _wordsPerPage, _pidOf) = (cpu, new OpCursor(ops), wordsPerPage, pidOf);
    }

    public CpuId Cpu { get; }

    /// <summary>The process the CPU runs (null before its first run, or when that process never started).</summary>
    public string? Process { get; private set; }

    /// <summary>Whether the process it runs is alive: else its remaining operations are skipped.</summary>
    public bool Alive { get; private set; }

    /// <summary>The saved user stack pointer, which decides how far the stack may grow.</summary>
    public VirtualAddress StackPointer { get; private set; }

    /// <summary>Steps done: one per access, per operation (a barrier is one, however long it waits), per skipped operation.</summary>
    public long Steps { get; private set; }

    public bool Done => _ops.Current is null;

    /// <summary>The operation at hand (for messages: its line).</summary>
    public Op Current => _ops.Current ?? throw new InvalidOperationException($"cpu {Cpu.Value} has no operation left");

    /// <summary>The byte offset of this CPU's own word in any page.</summary>
    private ulong OwnWordOffset => (ulong)(Cpu.Value % _wordsPerPage) * sizeof(ulong);

    /// <summary>
    /// What the CPU does next. Operations that need no engine (setting the stack pointer, those of a process that is gone)
    /// are done here; the rest are returned for the engine, which reports back how they ended.
    /// </summary>
    public CpuStep Next()
    {
        if (_reader is not null && _sub < _batch.Count && Alive) // the replay at hand, within the batch read: its next access
            return new CpuStep(CpuStepKind.Access, Line: Current.Line, Access: Replayed(_batch[(int)_sub], _stores));
        if (_populatePages > 0 && Alive) // the populate a call started: its next page
            return new CpuStep(CpuStepKind.Access, Line: Current.Line, Access: Populating(_sub));
        while (_ops.Current is { } op)
        {
            switch (op)
            {
                case Op.Run run:
                    return new CpuStep(CpuStepKind.Switch, run.Process, run.Line);
                case Op.Barrier barrier:
                    return new CpuStep(CpuStepKind.Barrier, barrier.Name, barrier.Line);
                case Op.Fork fork when !Alive:
                    return new CpuStep(CpuStepKind.ForkSkipped, fork.Child, fork.Line);
                case var _ when !Alive:
                    Advance(); // the process this CPU ran is gone: its remaining operations are skipped
                    continue;
                case Op.SetStackPointer sp:
                    if (!TryResolve(sp.Address, out var address))
                        return NeedRegion(sp.Address.Region!, op.Line);
                    StackPointer = address;
                    Advance();
                    continue;
                case Op.Access access:
                    return Peek(access, _sub, _stores) is { } next ? new CpuStep(CpuStepKind.Access, Line: op.Line, Access: next) : NeedRegionOf(access);
                case Op.Replay replay:
                    if (Replayed(replay) is { } replayed)
                        return new CpuStep(CpuStepKind.Access, Line: op.Line, Access: replayed);
                    EndReplay(); // the stream has ended: on with what follows it
                    continue;
                default:
                    return CallOf(op);
            }
        }
        return default;
    }

    /// <summary>
    /// The accesses from here on, up to <paramref name="max"/>, of this and the access operations that follow it, as far as
    /// their regions are known: what a CPU may hand its TLB at once. Nothing is committed until <see cref="Accessed(int, bool)"/>.
    /// </summary>
    public int PeekAccesses(List<ScriptAccess> into, int max)
    {
        var (pc, sub, stores) = (0, _sub, _stores);  // pc: how far after the operation at hand
        var count = 0;
        if (_populatePages > 0) // a populate is handed on alone, up to its end
        {
            for (; sub < _populatePages && count < max; sub++, count++)
                into.Add(Populating(sub));
            return count;
        }
        while (count < max && _ops.At(pc) is { } op)
        {
            if (op is Op.Replay)
            {
                if (pc == 0) // a replay is read once it is the operation at hand (Next read its batch): up to the batch's end
                {
                    var batch = _batch.AsSpan();
                    for (var i = (int)sub; i < batch.Length && count < max; i++, count++)
                    {
                        into.Add(Replayed(batch[i], stores));
                        if (batch[i].Kind == AccessKind.Write)
                            stores++;
                    }
                }
                break;
            }
            if (op is not Op.Access access || Peek(access, sub, stores) is not { } next)
                break;
            into.Add(next);
            count++;
            if (access.Kind == AccessKind.Write && access.Value is null)
                stores++;
            if (++sub >= access.Target.Count)
                (pc, sub) = (pc + 1, 0);
        }
        return count;
    }

    /// <summary>
    /// <paramref name="completed"/> accesses completed; with <paramref name="endedEarly"/>, the one after them was attempted
    /// and ended its operation (a signal, EFAULT, a panic): its store value is spent, and it is a step too.
    /// </summary>
    public void Accessed(int completed, bool endedEarly)
    {
        if (_populatePages > 0)
        {
            for (var i = 0; i < completed + (endedEarly ? 1 : 0); i++)
            {
                Steps++;
                if (i == completed || ++_sub >= _populatePages)
                {
                    _ops.Advance(); // done, or a page it could not fault in ended it (EFAULT)
                    (_sub, _populatePages) = (0, 0);
                }
            }
            return;
        }
        for (var i = 0; i < completed + (endedEarly ? 1 : 0); i++)
        {
            var op = Current;
            if (op is Op.Replay)
            {
                if (_batch[(int)_sub].Kind == AccessKind.Write)
                    _stores++;
                Steps++;
                if (i == completed)
                    EndReplay(); // a signal or a panic ended the replay: the rest of the stream is never read
                else
                    _sub++;
                continue;
            }
            var access = (Op.Access)op;
            if (access.Kind == AccessKind.Write && access.Value is null)
                _stores++;
            Steps++;
            if (i == completed || ++_sub >= access.Target.Count)
            {
                _ops.Advance();
                _sub = 0;
            }
        }
    }

    /// <summary>The CPU runs <paramref name="process"/> now: <paramref name="regions"/> are those it knows of, and it starts at the process's stack pointer.</summary>
    public void Switched(string process, bool alive, VirtualAddress stackPointer, IDictionary<string, (VirtualAddress Start, ulong Length)> regions)
    {
        (Process, Alive, StackPointer, _regions) = (process, alive, stackPointer, regions);
        Advance();
    }

    /// <summary>The process a run names never started (its parent ended before the fork): what follows is skipped.</summary>
    public void NeverStarted()
    {
        (Process, Alive) = (null, false);
        Advance();
    }

    /// <summary>Every CPU has reached the barrier as often: the CPU goes on.</summary>
    public void BarrierPassed() => Advance();

    /// <summary>The fork the process did not live to make is noted: the CPU goes on.</summary>
    public void ForkSkipped() => Advance();

    /// <summary>
    /// The system call returned; <paramref name="processEnded"/> when the process is gone (exit, or it died meanwhile).
    /// A fork the process did not live to make (another thread's exit or a fatal signal came first) made no child: it
    /// stays the operation at hand, and <see cref="Next"/> gives it as <see cref="CpuStepKind.ForkSkipped"/>, as for a
    /// fork reached after the process ended.
    /// </summary>
    /// <param name="failed">The call failed (EINVAL, ENOMEM, …): it populates nothing, and mremap moved nothing.</param>
    /// <param name="remapped">What a successful mremap did: where the region is now, and the range it faults in.</param>
    public void CallReturned(bool processEnded, bool failed = false, RemapResult? remapped = null)
    {
        if (processEnded || Current is Op.Exit)
            Alive = false;
        if (processEnded && Current is Op.Fork)
            return;
        var call = _call;
        _call = null;
        if (remapped is { } moved && !failed && call is SystemCall.Mremap remap)
            _regions[remap.Region] = (moved.Start, remap.NewLength);
        var (from, to) = failed || !Alive ? (default, default) : PopulateRangeOf(call, remapped);
        if (to.Value <= from.Value)
        {
            Advance();
            return;
        }
        // mlock and MAP_POPULATE fault the range in before they return: one access a page, this operation's still.
        Steps++;
        (_populateFrom, _populatePages, _sub) = (from, (long)(to.Page - from.Page), 0);
    }

    /// <summary>The pages a call that returned faults in: a populating mmap's, an mlock's, and the part mremap added to a locked region.</summary>
    private static (VirtualAddress From, VirtualAddress To) PopulateRangeOf(SystemCall? call, RemapResult? remapped) => call switch
    {
        SystemCall.Mmap map when map.Populates() => (map.Start, map.Start + map.Length),
        SystemCall.Mlock { Locks: true } mlock => (mlock.Start, mlock.End),
        SystemCall.Mremap when remapped is { } r => (r.PopulateFrom, r.PopulateTo),
        _ => (default, default),
    };

    /// <summary>The populate's access of its page number <paramref name="sub"/>: the kernel's touch of the page, which stores nothing.</summary>
    private ScriptAccess Populating(long sub) =>
        new(_populateFrom + (ulong)sub * VirtualAddress.PageSize, AccessKind.Read, AccessMode.Populate, 0);

    /// <summary>The process died (a fatal signal, the OOM killer, another thread's exit): what follows is skipped.</summary>
    public void ProcessEnded() => Alive = false;

    /// <summary>A region this CPU did not know of, as its process's mm knows it.</summary>
    public void Learn(string region, VirtualAddress start, ulong length) => _regions[region] = (start, length);

    /// <summary>What a CPU reports when its script names a region its process does not have.</summary>
    public static string NoRegion(string process, string region) =>
        $"process '{process}' has no region '{region}' at this point; declare or mmap it in this process first";

    private void Advance()
    {
        CloseReplay();
        _ops.Advance();
        _sub = 0;
        _populatePages = 0;
        Steps++;
    }

    /// <summary>Where an access's target starts: its address, or the start of its page range's region.</summary>
    private static AddressExpr BaseOf(Op.Access access) => access.Target switch
    {
        AccessTarget.Pages pages => new AddressExpr(pages.Region, 0),
        AccessTarget.At at => at.Address,
        _ => throw new InvalidOperationException($"no address for {access.Target}"),
    };

    private ScriptAccess? Peek(Op.Access access, long sub, ulong stores)
    {
        if (!TryResolve(BaseOf(access), out var baseAddress))
            return null;
        var address = access.Target is AccessTarget.Pages range
            ? baseAddress + (range.First + (ulong)sub) * VirtualAddress.PageSize + OwnWordOffset
            : baseAddress;
        var value = access.Kind != AccessKind.Write ? 0 : access.Value ?? StoreValue(stores);
        return new ScriptAccess(address, access.Kind, access.Mode, value);
    }

    /// <summary>What the CPU's store number <paramref name="stores"/> (from 0) writes when its script gives no value: unique to the CPU and the store.</summary>
    private ulong StoreValue(ulong stores) => ((ulong)(Cpu.Value + 1) << 40) | (stores + 1);

    /// <summary>The replay's access at hand, its next batch read (the replay opened first) once every access of the last is done; null at the stream's end.</summary>
    private ScriptAccess? Replayed(Op.Replay replay)
    {
        if (_sub >= _batch.Count)
        {
            _reader ??= replay.Source.Open();
            var batch = _reader.NextBatch();
            (_batch, _sub) = (MemoryMarshal.TryGetArray(batch, out var segment) ? segment : new ArraySegment<TracedAccess>(batch.ToArray()), 0);
            if (_batch.Count == 0)
                return null;
        }
        return Replayed(_batch[(int)_sub], _stores);
    }

    private ScriptAccess Replayed(TracedAccess access, ulong stores) =>
        new(access.Address, access.Kind, AccessMode.User, access.Kind == AccessKind.Write ? StoreValue(stores) : 0);

    /// <summary>The replay is over (its stream ended, or its process did): the next operation is at hand. Each access was a step; the end is none.</summary>
    private void EndReplay()
    {
        CloseReplay();
        _ops.Advance();
        _sub = 0;
    }

    private void CloseReplay()
    {
        _reader?.Dispose();
        (_reader, _batch) = (null, default);
    }

    private static CpuStep NeedRegion(string region, int line) => new(CpuStepKind.NeedRegion, region, line);

    private CpuStep Called(SystemCall call, int line)
    {
        _call = call;
        return new(CpuStepKind.Call, Line: line, Call: call);
    }

    private static CpuStep NeedRegionOf(Op.Access access) => NeedRegion(BaseOf(access).Region!, access.Line);

    private CpuStep CallOf(Op op)
    {
        switch (op)
        {
            case Op.Map map:
                if (!TryResolve(map.Start, out var start))
                    return NeedRegion(map.Start.Region!, op.Line);
                if (AddressSpace.CanMap(start, map.Length))
                    _regions[map.Name] = (start, map.Length); // the call refuses the rest (EINVAL)
                return Called(new SystemCall.Mmap(map.Name, start, map.Length, map.Flags, map.File, map.FileOffset), op.Line);
            case Op.Unmap unmap:
                return WithRange(unmap.Range, op.Line, (s, e) => new SystemCall.Munmap(s, e));
            case Op.Protect protect:
                return WithRange(protect.Range, op.Line, (s, e) => new SystemCall.Mprotect(s, e, protect.Protection));
            case Op.Advise advise:
                return WithRange(advise.Range, op.Line, (s, e) => new SystemCall.Madvise(s, e, advise.Advice));
            case Op.Lock lockOp:
                return WithRange(lockOp.Range, op.Line, (s, e) => new SystemCall.Mlock(s.PageAlignedDown, e, lockOp.Locks));
            case Op.Remap remap:
                if (!_regions.TryGetValue(remap.Region, out var region))
                    return NeedRegion(remap.Region, op.Line);
                return Called(new SystemCall.Mremap(remap.Region, region.Start, region.Length, remap.NewLength, remap.MayMove), op.Line);
            case Op.Fork fork:
                return Called(new SystemCall.Fork(fork.Child, _pidOf(fork.Child)), op.Line);
            case Op.Exit:
                return Called(SystemCall.Exit.Instance, op.Line);
            default:
                throw new InvalidOperationException($"not a system call: {op}");
        }
    }

    /// <summary>
    /// A range of a call: from its start, to its end rounded up to a page (<see cref="SyscallRules.EndOf"/>); a bare region
    /// name is all of it. An unaligned start stays as it is: the call refuses it (<see cref="SyscallRules.Refuses"/>).
    /// </summary>
    private CpuStep WithRange(RangeExpr range, int line, Func<VirtualAddress, VirtualAddress, SystemCall> call)
    {
        if (!TryResolve(range.Start, out var start))
            return NeedRegion(range.Start.Region!, line);
        var length = range.Length ?? _regions[range.Start.Region!].Length;
        return Called(call(start, SyscallRules.EndOf(start, length)), line);
    }

    private bool TryResolve(AddressExpr expr, out VirtualAddress address)
    {
        address = default;
        if (expr.Region is null)
        {
            address = new VirtualAddress((ulong)expr.Offset);
            return true;
        }
        if (!_regions.TryGetValue(expr.Region, out var region))
            return false;
        address = new VirtualAddress((ulong)((long)region.Start.Value + expr.Offset));
        return true;
    }
}

using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Common;
using Faultsim.Model.Frames;
using Faultsim.Model.Memory;
using Faultsim.Model.Replacement;
using Faultsim.Model.Storage;
using Faultsim.Model.Tlbs;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Model.Machine;

/// <summary>
/// The sequential reference machine: runs a workload one step at a time (an access or a system
/// call of one CPU), each step complete before the next, through TLBs, page tables, the fault
/// decision, frames and replacement. It is the oracle that concurrent engines are held against
/// on race-free workloads, and their speed baseline.
/// </summary>
public sealed partial class ReferenceMachine
{
    public const string EngineName = "reference";

    private readonly Workload _workload;
    private readonly MachineSpec _spec;
    private readonly ulong _seed;
    private readonly SimRandom _random;
    private readonly MemoryManager _memory;
    private readonly FileStore _files = new();
    private readonly FileTable _fileTable;
    private readonly HashSet<FilePage> _badPages = [];
    private readonly CpuState[] _cpus;
    private readonly List<ProcessState> _processes = [];
    private readonly Dictionary<string, ProcessState> _byName = [];
    private readonly SortedSet<string> _neverStarted = new(StringComparer.Ordinal);
    private readonly Dictionary<Asid, ProcessState> _byAsid = [];
    private readonly Dictionary<string, int[]> _barrierArrivals = [];
    private readonly Dictionary<string, bool[]> _barrierParticipants = [];
    private int _lastCpu = -1;
    private long _steps;
    private string? _panic;

    private ReferenceMachine(Workload workload, ulong seed, IReplacementPolicy policy)
    {
        _workload = workload;
        _spec = workload.Machine;
        _seed = seed;
        _random = new SimRandom(seed);
        _memory = new MemoryManager(_spec.Frames, _spec.WordsPerPage, policy);
        _fileTable = new FileTable(workload.Files);
        foreach (var (file, page) in _spec.Disk.BadPages)
            _badPages.Add(new FilePage(_fileTable.IdOf(file), page));
        _cpus = new CpuState[_spec.Cpus];
        for (var i = 0; i < _cpus.Length; i++)
        {
            var ops = workload.Scripts.FirstOrDefault(s => s.Cpu.Value == i)?.Ops ?? [];
            _cpus[i] = new CpuState(new CpuId(i), ops, new Tlb(_spec.TlbEntries, _spec.TlbWays));
            foreach (var barrier in ops.OfType<Op.Barrier>())
            {
                if (!_barrierParticipants.TryGetValue(barrier.Name, out var participants))
                {
                    _barrierParticipants[barrier.Name] = participants = new bool[_spec.Cpus];
                    _barrierArrivals[barrier.Name] = new int[_spec.Cpus];
                }
                participants[i] = true;
            }
        }
        foreach (var spec in workload.Processes)
            StartProcess(spec);
    }

    /// <summary>Runs <paramref name="workload"/> to the end. OPT replacement runs it twice: once to learn the future, once to use it.</summary>
    /// <param name="captureMemory">Whether to capture the final memory image (benchmarks skip it).</param>
    public static RunResult Run(Workload workload, ulong seed, bool captureMemory = true)
    {
        WorkloadValidator.Validate(workload);
        var future = workload.Machine.Policy == ReplacementPolicyKind.Opt ? RecordReferences(workload, seed) : null;
        return new ReferenceMachine(workload, seed, ReplacementPolicies.Create(workload.Machine.Policy, future)).Execute(captureMemory);
    }

    /// <summary>Every page reference of a run, in order (what OPT needs to know of the future).</summary>
    public static IReadOnlyList<PageKey> RecordReferences(Workload workload, ulong seed)
    {
        WorkloadValidator.Validate(workload);
        var recorder = new RecordingPolicy(new FifoPolicy());
        new ReferenceMachine(workload, seed, recorder).Execute(captureMemory: false);
        return recorder.References;
    }

    private RunResult Execute(bool captureMemory)
    {
        while (_panic is null && NextCpu() is { } cpu)
        {
            var arriving = cpu.Current is Op.Barrier && !cpu.AtBarrier; // a barrier is one step, however long it waits
            Step(cpu);
            if (!arriving)
                _steps++;
        }
        var totals = new Counters();
        foreach (var process in _processes)
        {
            process.Counters.Add(_memory.CountsOf(process.Pid));
            totals.Add(process.Counters);
        }
        return new RunResult(
            EngineName, _seed, _spec.Cpus, totals,
            [.. _processes.Select(p => new ProcessReport(p.Pid, p.Name, p.Fate, p.Counters))],
            captureMemory ? CaptureMemory() : null,
            _steps, _panic) { NeverStarted = [.. _neverStarted] };
    }

    /// <summary>The CPU that takes the next step under the interleaving, or null when every script is done.</summary>
    private CpuState? NextCpu()
    {
        var runnable = 0;
        Span<int> ready = _cpus.Length <= 256 ? stackalloc int[_cpus.Length] : new int[_cpus.Length];
        foreach (var cpu in _cpus)
        {
            if (!cpu.Done && CanStep(cpu))
                ready[runnable++] = cpu.Id.Value;
        }
        if (runnable == 0)
        {
            return _cpus.All(c => c.Done) ? null : throw Deadlock();
        }
        var pick = _spec.Interleaving switch
        {
            Interleaving.Random => ready[_random.Next(runnable)],
            Interleaving.Sequential => ready[0],
            _ => FirstAfter(ready[..runnable], _lastCpu),
        };
        _lastCpu = pick;
        return _cpus[pick];
    }

    private static int FirstAfter(ReadOnlySpan<int> ready, int last)
    {
        foreach (var id in ready)
        {
            if (id > last)
                return id;
        }
        return ready[0];
    }

    private bool CanStep(CpuState cpu) => cpu.Current switch
    {
        Op.Run run => _byName.ContainsKey(run.Process) || _neverStarted.Contains(run.Process),
        Op.Barrier barrier when cpu.AtBarrier => BarrierOpen(barrier.Name, cpu),
        _ => true,
    };

    private bool BarrierOpen(string name, CpuState cpu)
    {
        var (arrivals, participants) = (_barrierArrivals[name], _barrierParticipants[name]);
        var mine = arrivals[cpu.Id.Value];
        for (var i = 0; i < arrivals.Length; i++)
        {
            if (participants[i] && arrivals[i] < mine)
                return false;
        }
        return true;
    }

    private WorkloadException Deadlock()
    {
        var waits = _cpus.Where(c => !c.Done).Select(c => c.Current switch
        {
            Op.Run run => $"cpu {c.Id.Value} waits for process '{run.Process}' (line {run.Line}), which is never forked",
            Op.Barrier barrier => $"cpu {c.Id.Value} waits at barrier '{barrier.Name}' (line {barrier.Line}), which another CPU never reaches",
            var op => $"cpu {c.Id.Value} is stuck at line {op.Line}",
        });
        var first = _cpus.First(c => !c.Done).Current.Line;
        return new WorkloadException(first, "the workload deadlocks: " + string.Join("; ", waits));
    }

    private void Step(CpuState cpu)
    {
        switch (cpu.Current)
        {
            case Op.Run run when _neverStarted.Contains(run.Process):
                cpu.Process = null; // its parent ended before the fork: this process's operations are skipped
                cpu.Advance();
                return;
            case Op.Run run:
                cpu.Process = _byName[run.Process];
                cpu.StackPointer = cpu.Process.InitialStackPointer;
                cpu.Process.Mm.Cpus.Add(cpu.Id);
                cpu.Advance();
                return;
            case Op.Barrier barrier when !cpu.AtBarrier:
                _barrierArrivals[barrier.Name][cpu.Id.Value]++;
                cpu.AtBarrier = true;
                return;
            case Op.Barrier:
                cpu.Advance();
                return;
        }
        if (cpu.Process is not { Alive: true } process)
        {
            if (cpu.Current is Op.Fork skipped)
                _neverStarted.Add(skipped.Child);
            cpu.Advance(); // the process this CPU ran is gone: its remaining operations are skipped
            return;
        }
        switch (cpu.Current)
        {
            case Op.Access access:
                StepAccess(cpu, process, access);
                return;
            case Op.Map map:
                DoMap(cpu, process, map);
                break;
            case Op.Unmap unmap:
                var (start, end) = ResolveRange(process, unmap.Range, unmap.Line);
                Settle(cpu, process.Mm, process.Mm.Unmap(start, end));
                break;
            case Op.Protect protect:
                var (pStart, pEnd) = ResolveRange(process, protect.Range, protect.Line);
                if (process.Mm.Protect(pStart, pEnd, protect.Protection) is { } changes)
                    Settle(cpu, process.Mm, changes);
                else
                    process.Counters.SyscallErrors++; // ENOMEM: part of the range is not mapped
                break;
            case Op.Advise advise:
                DoAdvise(cpu, process, advise);
                break;
            case Op.Fork fork:
                DoFork(cpu, process, fork.Child);
                break;
            case Op.Exit:
                EndProcess(cpu, process, ProcessFate.Exited);
                break;
            case Op.SetStackPointer sp:
                cpu.StackPointer = Resolve(process, sp.Address, sp.Line);
                break;
        }
        cpu.Advance();
    }

    private void StepAccess(CpuState cpu, ProcessState process, Op.Access access)
    {
        var address = access.Target switch
        {
            AccessTarget.Pages pages => Resolve(process, new AddressExpr(pages.Region, 0), access.Line)
                                        + (pages.First + (ulong)cpu.Sub) * VirtualAddress.PageSize
                                        + OwnWordOffset(cpu.Id),
            AccessTarget.At at => Resolve(process, at.Address, access.Line),
            _ => throw new InvalidOperationException(),
        };
        var value = access.Kind == AccessKind.Write ? access.Value ?? cpu.NextStoreValue() : 0;
        var outcome = Access(cpu, process, address, access.Kind, access.Mode, value);
        cpu.Sub++;
        if (outcome != Outcome.Done || cpu.Sub >= access.Target.Count)
            cpu.Advance(); // a signal, EFAULT or panic ends the operation
    }

    /// <summary>The byte offset of the word that belongs to <paramref name="cpu"/> in any page, so CPUs sharing a page never overwrite each other.</summary>
    private ulong OwnWordOffset(CpuId cpu) => (ulong)(cpu.Value % _spec.WordsPerPage) * sizeof(ulong);

    private void DoMap(CpuState cpu, ProcessState process, Op.Map map)
    {
        var start = Resolve(process, map.Start, map.Line);
        if (!AddressSpace.CanMap(start, map.Length))
        {
            process.Counters.SyscallErrors++; // EINVAL
            return;
        }
        var objects = process.ShmemObjects;
        var vma = new Vma(start, start + map.Length, map.Flags, _fileTable.BackingFor(map.File, map.FileOffset, map.Flags, process.Pid, ref objects));
        process.ShmemObjects = objects;
        Settle(cpu, process.Mm, process.Mm.Map(vma));
        process.Regions[map.Name] = (start, map.Length);
    }

    private void DoAdvise(CpuState cpu, ProcessState process, Op.Advise advise)
    {
        var (start, end) = ResolveRange(process, advise.Range, advise.Line);
        if (!process.Mm.Vmas.IsFullyMapped(start, end))
        {
            process.Counters.SyscallErrors++; // ENOMEM
            return;
        }
        if (advise.Advice == Advice.DontNeed)
        {
            Settle(cpu, process.Mm, process.Mm.DontNeed(start, end));
            return;
        }
        // MADV_PAGEOUT reclaims the pages this process alone maps.
        var frames = _memory.PageOutCandidates(process.Mm.Pages.Entries(start.Page, end.Page).Where(e => e.Pte.IsPresent).Select(e => e.Pte.Frame));
        foreach (var frame in frames)
            Evict(frame, cpu, process);
    }

    private void DoFork(CpuState cpu, ProcessState parent, string childName)
    {
        var childPid = _workload.PidOf(childName);
        var (childMm, parentChanges) = parent.Mm.Fork(AsidOf(childPid));
        _memory.AddReferences(childMm.Pages.Entries(new PageNumber(0), VirtualAddress.UserEnd.Page)
            .Select(e => PageRelease.Of(new PageKey(childMm.Asid, e.Page), e.Pte)));
        Shootdown(cpu.Id, parent.Mm, parentChanges);
        var child = new ProcessState(childPid, childName, childMm, cpu.StackPointer)
        {
            Regions = new Dictionary<string, (VirtualAddress, ulong)>(parent.Regions),
        };
        AddProcess(child);
    }

    private void StartProcess(ProcessSpec spec)
    {
        var pid = _workload.PidOf(spec.Name);
        var mm = new AddressSpace(AsidOf(pid));
        var vmas = _fileTable.VmasOf(spec, pid, out var objects);
        foreach (var vma in vmas)
            mm.Map(vma);
        var process = new ProcessState(pid, spec.Name, mm, spec.InitialStackPointer) { ShmemObjects = objects };
        foreach (var region in spec.Regions)
            process.Regions[region.Name] = (region.Start, region.Length);
        AddProcess(process);
    }

    /// <summary>A process's address-space id is its pid, so every engine tags the same pages alike.</summary>
    public static Asid AsidOf(ProcessId pid) => new(pid.Value);

    private void AddProcess(ProcessState process)
    {
        _processes.Add(process);
        _processes.Sort((a, b) => a.Pid.Value.CompareTo(b.Pid.Value));
        _byName[process.Name] = process;
        _byAsid[process.Mm.Asid] = process;
    }

    /// <summary>Exit or a fatal signal: the address space goes, every CPU that ran it forgets its translations first.</summary>
    private void EndProcess(CpuState cpu, ProcessState process, ProcessFate fate)
    {
        process.Fate = fate;
        var changes = process.Mm.Teardown();
        ShootdownAll(cpu.Id, process.Mm);
        foreach (var release in PageRelease.Dropped(process.Mm.Asid, changes))
            _memory.Release(release);
    }

    private VirtualAddress Resolve(ProcessState process, AddressExpr address, int line)
    {
        if (address.Region is null)
            return new VirtualAddress((ulong)address.Offset);
        if (!process.Regions.TryGetValue(address.Region, out var region))
            throw new WorkloadException(line, $"process '{process.Name}' has no region '{address.Region}' at this point; declare or mmap it in this process first");
        return new VirtualAddress((ulong)((long)region.Start.Value + address.Offset));
    }

    private (VirtualAddress Start, VirtualAddress End) ResolveRange(ProcessState process, RangeExpr range, int line)
    {
        var start = Resolve(process, range.Start, line);
        var length = range.Length ?? process.Regions[range.Start.Region!].Length;
        var end = new VirtualAddress(start.Value + length + VirtualAddress.OffsetMask).PageAlignedDown;
        return (start.PageAlignedDown, end);
    }

    private MemoryImage CaptureMemory()
    {
        var pages = new List<PageImage>();
        foreach (var process in _processes.Where(p => p.Alive))
        {
            foreach (var (page, pte) in process.Mm.Pages.Entries(new PageNumber(0), VirtualAddress.UserEnd.Page))
            {
                var words = _memory.ContentOf(PageRelease.Of(new PageKey(process.Mm.Asid, page), pte));
                if (MemoryImage.Counts(words))
                    pages.Add(new PageImage(process.Pid, page, [.. words]));
            }
        }
        var content = new ulong[_spec.WordsPerPage];
        var written = _files.WrittenPages.Select(page =>
        {
            _files.Read(page, content);
            return (page, content.ToArray());
        }).ToList();
        return MemoryImage.Of(pages, written, _memory.ChangedCachedFilePages(), _fileTable.Name);
    }
}

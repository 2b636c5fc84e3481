using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Common;
using Faultsim.Model.Frames;
using Faultsim.Model.Memory;
using Faultsim.Model.PageTables;
using Faultsim.Model.Replacement;
using Faultsim.Model.Shootdowns;
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
    private readonly ReadErrors _readErrors;
    private readonly CpuState[] _cpus;
    private readonly List<ProcessState> _processes = [];
    private readonly Dictionary<string, ProcessState> _byName = [];
    private readonly SortedSet<string> _neverStarted = new(StringComparer.Ordinal);
    private readonly Dictionary<Asid, ProcessState> _byAsid = [];
    private readonly BarrierTable _barriers;
    private int _lastCpu = -1;
    private bool _alone;        // whether the CPU NextCpu picked last is the only one with steps left
    private string? _panic;

    private ReferenceMachine(Workload workload, ulong seed, IReplacementPolicy policy)
    {
        _workload = workload;
        _spec = workload.Machine;
        _seed = seed;
        _random = new SimRandom(seed);
        _fileTable = new FileTable(workload.Files);
        _memory = new MemoryManager(_spec.Frames, _spec.WordsPerPage, policy, _spec.Readahead, _fileTable);
        _readErrors = ReadErrors.Of(_spec.Disk, _fileTable);
        _barriers = new BarrierTable(_spec.Cpus, workload.Scripts);
        _cpus = new CpuState[_spec.Cpus];
        for (var i = 0; i < _cpus.Length; i++)
        {
            var ops = workload.Scripts.FirstOrDefault(s => s.Cpu.Value == i)?.Ops ?? [];
            _cpus[i] = new CpuState(new CpuProgram(new CpuId(i), ops, _spec.WordsPerPage, workload.PidOf), new Tlb(_spec.TlbEntries, _spec.TlbWays));
        }
        foreach (var spec in workload.Processes)
            StartProcess(spec);
    }

    /// <summary>Runs <paramref name="workload"/> to the end. OPT replacement runs it twice: once to learn the future, once to use it.</summary>
    /// <param name="captureMemory">Whether to capture the final memory image (benchmarks skip it).</param>
    /// <param name="interrupt">
    /// Cancelled when the user interrupts: the run stops before its next step and returns the figures so far,
    /// <see cref="RunResult.Interrupted"/>, without a memory image.
    /// </param>
    public static RunResult Run(Workload workload, ulong seed, bool captureMemory = true, CancellationToken interrupt = default)
    {
        WorkloadValidator.Validate(workload);
        var future = ReplacementPolicies.NeedsFuture(workload.Machine) ? RecordReferences(workload, seed, interrupt) : null;
        return new ReferenceMachine(workload, seed, ReplacementPolicies.Create(workload.Machine.Policy, future)).Execute(captureMemory, interrupt);
    }

    /// <summary>Every page reference of a run, in order (what OPT needs to know of the future).</summary>
    public static IReadOnlyList<PageKey> RecordReferences(Workload workload, ulong seed, CancellationToken interrupt = default)
    {
        WorkloadValidator.Validate(workload);
        var recorder = new RecordingPolicy(new FifoPolicy());
        new ReferenceMachine(workload, seed, recorder).Execute(captureMemory: false, interrupt);
        return recorder.References;
    }

    private RunResult Execute(bool captureMemory, CancellationToken interrupt = default)
    {
        var interrupted = false;
        while (_panic is null && NextCpu() is { } cpu)
        {
            if (interrupt.IsCancellationRequested)
            {
                interrupted = true;
                break;
            }
            Step(cpu);
            // The only CPU with steps left goes on while it can: the interleaving would pick it every time (the others
            // are done for good), and a random one draws as it would have.
            while (_alone && _panic is null && !cpu.Done && CanStep(cpu) && !interrupt.IsCancellationRequested)
            {
                if (_spec.Interleaving == Interleaving.Random)
                    _random.Next(1);
                Step(cpu);
            }
        }
        var totals = new Counters();
        foreach (var process in _processes)
        {
            process.Counters.Add(_memory.CountsOf(process.Pid).Totals);
            totals.Add(process.Counters);
        }
        return new RunResult(
            EngineName, _seed, _spec.Cpus, totals,
            [.. _processes.Select(p => new ProcessReport(p.Pid, p.Name, p.Fate, p.Counters))],
            captureMemory && !interrupted ? CaptureMemory() : null,
            _cpus.Sum(c => c.Program.Steps), _panic) { NeverStarted = [.. _neverStarted], Interrupted = interrupted };
    }

    /// <summary>The CPU that takes the next step under the interleaving, or null when every script is done.</summary>
    private CpuState? NextCpu()
    {
        var (runnable, left) = (0, 0);
        Span<int> ready = _cpus.Length <= 256 ? stackalloc int[_cpus.Length] : new int[_cpus.Length];
        foreach (var cpu in _cpus)
        {
            if (cpu.Done)
                continue;
            left++;
            if (CanStep(cpu))
                ready[runnable++] = cpu.Id.Value;
        }
        _alone = left == 1;
        if (BarrierTable.Deadlocks(_cpus.Length, finished: _cpus.Length - left, waiting: left - runnable))
            throw Deadlock();
        if (runnable == 0)
            return null; // every script is done
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

    private bool CanStep(CpuState cpu) => cpu.Program.Current switch
    {
        Op.Run run => _byName.ContainsKey(run.Process) || _neverStarted.Contains(run.Process),
        Op.Barrier barrier when cpu.AtBarrier => _barriers.IsOpen(cpu.Id, barrier.Name),
        _ => true,
    };

    private WorkloadException Deadlock() => BarrierTable.Deadlock(_cpus.Where(c => !c.Done).Select(c => (c.Id, c.Program.Next()))); // each waits in a run or a barrier

    /// <summary>One step of <paramref name="cpu"/>'s program, done at once.</summary>
    private void Step(CpuState cpu)
    {
        var program = cpu.Program;
        if (cpu.Process is { Alive: false })
            program.ProcessEnded();
        var step = program.Next();
        switch (step.Kind)
        {
            case CpuStepKind.Switch when _neverStarted.Contains(step.Name!):
                cpu.Process = null; // its parent ended before the fork: this process's operations are skipped
                program.NeverStarted();
                return;
            case CpuStepKind.Switch when _byName.TryGetValue(step.Name!, out var next):
                cpu.Process = next;
                next.Mm.SwitchIn(cpu.Id);
                program.Switched(next.Name, next.Alive, next.InitialStackPointer, next.Regions);
                return;
            case CpuStepKind.Switch:
                return; // not forked yet: another CPU goes first
            case CpuStepKind.Barrier when !cpu.AtBarrier:
                _barriers.Arrive(cpu.Id, step.Name!);
                cpu.AtBarrier = true;
                return;
            case CpuStepKind.Barrier:
                cpu.AtBarrier = false;
                program.BarrierPassed();
                return;
            case CpuStepKind.ForkSkipped:
                _neverStarted.Add(step.Name!);
                program.ForkSkipped();
                return;
            case CpuStepKind.NeedRegion:
                throw new WorkloadException(step.Line, CpuProgram.NoRegion(cpu.Process!.Name, step.Name!)); // a process's regions are all known here
            case CpuStepKind.Access:
                var access = step.Access;
                var outcome = Access(cpu, cpu.Process!, access.Address, access.Kind, access.Mode, access.Value);
                program.Accessed(outcome == Outcome.Done ? 1 : 0, endedEarly: outcome != Outcome.Done); // a signal, EFAULT or panic ends the operation
                return;
            case CpuStepKind.Call:
                var failed = !Call(cpu, cpu.Process!, step.Call!, out var remapped);
                program.CallReturned(processEnded: !cpu.Process!.Alive, failed, remapped);
                return;
        }
    }

    /// <summary>One system call, done at once; false when it failed (counted in syscall_errors).</summary>
    private bool Call(CpuState cpu, ProcessState process, SystemCall call, out RemapResult? remapped)
    {
        remapped = null;
        if (SyscallRules.Refuses(call))
            return Failed(process); // EINVAL
        switch (call)
        {
            case SystemCall.Mmap map:
                DoMap(cpu, process, map);
                break;
            case SystemCall.Munmap unmap:
                Settle(cpu, process.Mm, call, process.Mm.Unmap(unmap.Start, unmap.End));
                break;
            case SystemCall.Mprotect protect:
                if (process.Mm.Protect(protect.Start, protect.End, protect.Protection) is not { } changes)
                    return Failed(process); // ENOMEM: part of the range is not mapped
                Settle(cpu, process.Mm, call, changes);
                break;
            case SystemCall.Madvise advise:
                return DoAdvise(cpu, process, advise);
            case SystemCall.Mlock mlock:
                if (process.Mm.Lock(mlock.Start, mlock.End, mlock.Locks) is not { } frames)
                    return Failed(process); // ENOMEM
                foreach (var (page, frame) in frames)
                    LockFrame(new PageKey(process.Mm.Asid, page), frame, mlock.Locks);
                break;
            case SystemCall.Mremap remap:
                if (process.Mm.Remap(remap, out _) is not { } remapping)
                    return Failed(process); // EFAULT, ENOMEM
                DoRemap(cpu, process, remap, remapping);
                remapped = remapping.Result;
                break;
            case SystemCall.Fork fork:
                DoFork(cpu, process, fork);
                break;
            case SystemCall.Exit:
                EndProcess(cpu, process, ProcessFate.Exited);
                break;
        }
        return true;
    }

    private static bool Failed(ProcessState process)
    {
        process.Counters.SyscallErrors++;
        return false;
    }

    private void LockFrame(PageKey page, FrameNumber frame, bool locks)
    {
        if (locks)
            _memory.Lock(page, frame);
        else
            _memory.Unlock(page, frame);
    }

    /// <summary>mremap's changes: the old PTEs shot down, a shrink's tail released, the moved frames found at their new pages.</summary>
    private void DoRemap(CpuState cpu, ProcessState process, SystemCall.Mremap remap, Remapping remapping)
    {
        var mm = process.Mm;
        Shootdown(cpu.Id, mm, ShootdownRules.RangeRounds(_spec.Shootdown, mm, ShootdownRules.RangeOf(remap), remapping.Changes));
        foreach (var release in PageRelease.Dropped(mm.Asid, remapping.Dropped))
            _memory.Release(release);
        _memory.Move(mm.Asid, remapping.Moves, remapping.Locked);
    }

    private void DoMap(CpuState cpu, ProcessState process, SystemCall.Mmap map)
    {
        var objects = process.ShmemObjects;
        var vma = _fileTable.VmaFor(map, process.Pid, ref objects);
        process.ShmemObjects = objects;
        Settle(cpu, process.Mm, map, process.Mm.Map(vma)); // the program has noted the region in the process's regions
    }

    private bool DoAdvise(CpuState cpu, ProcessState process, SystemCall.Madvise advise)
    {
        switch (process.Mm.Madvise(advise, _fileTable.Size, _memory.ReadaheadRules))
        {
            case AdviceEffect.Refused:
                return Failed(process); // ENOMEM, or EINVAL for a locked VMA
            case AdviceEffect.Zapped zapped:
                Settle(cpu, process.Mm, advise, zapped.Changes);
                break;
            case AdviceEffect.ReadAhead willNeed:
                foreach (var window in willNeed.Windows)
                    ReadAhead(process, window, except: null, counted: true);
                break;
            case AdviceEffect.PageOut pageOut:
                foreach (var frame in _memory.PageOutCandidates(pageOut.Frames))
                    Evict(frame, cpu, process);
                break;
        }
        return true;
    }

    private void DoFork(CpuState cpu, ProcessState parent, SystemCall.Fork fork)
    {
        var (childName, childPid) = (fork.Child, fork.ChildPid);
        var (childMm, parentChanges) = parent.Mm.Fork(Asid.Of(childPid));
        _memory.AddReferences(childMm.Pages.Entries(new PageNumber(0), VirtualAddress.UserEnd.Page)
            .Select(e => PageRelease.Of(new PageKey(childMm.Asid, e.Page), e.Pte)));
        Shootdown(cpu.Id, parent.Mm, ShootdownRules.RangeRounds(_spec.Shootdown, parent.Mm, ShootdownRules.RangeOf(fork), parentChanges));
        var child = new ProcessState(childPid, childName, childMm, cpu.StackPointer)
        {
            Regions = new Dictionary<string, (VirtualAddress, ulong)>(parent.Regions),
        };
        AddProcess(child);
    }

    private void StartProcess(ProcessSpec spec)
    {
        var pid = _workload.PidOf(spec.Name);
        var mm = new AddressSpace(Asid.Of(pid));
        var vmas = _fileTable.VmasOf(spec, pid, out var objects);
        foreach (var vma in vmas)
            mm.Map(vma);
        var process = new ProcessState(pid, spec.Name, mm, spec.InitialStackPointer) { ShmemObjects = objects };
        foreach (var region in spec.Regions)
            process.Regions[region.Name] = (region.Start, region.Length);
        AddProcess(process);
    }

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

    private MemoryImage CaptureMemory()
    {
        var pages = new List<(ProcessId, PageNumber)>();
        var ptes = new List<Pte>();
        foreach (var process in _processes.Where(p => p.Alive))
        {
            foreach (var (page, pte) in process.Mm.Pages.Entries(new PageNumber(0), VirtualAddress.UserEnd.Page))
            {
                pages.Add((process.Pid, page));
                ptes.Add(pte);
            }
        }
        var content = new ulong[_spec.WordsPerPage];
        var written = _files.WrittenPages.Select(page =>
        {
            _files.Read(page, content);
            return (page, content.ToArray());
        }).ToList();
        return MemoryImage.Of(PageImages.Of(pages, _memory.ImageWords(ptes), _spec.WordsPerPage), written, _memory.ChangedCachedFilePages(), _fileTable.Name);
    }
}

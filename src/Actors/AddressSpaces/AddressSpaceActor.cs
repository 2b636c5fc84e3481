using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Memory;
using Faultsim.Actors.Paging;
using Faultsim.Actors.Scheduling;
using Faultsim.Actors.Shootdown;
using Faultsim.Actors.Telemetry;
using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Checking;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Memory;
using Faultsim.Model.PageTables;
using Faultsim.Model.Shootdowns;
using Faultsim.Model.Tlbs;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Actors.AddressSpaces;

/// <summary>
/// One process's address space (mm): its VMAs, page table and CPU mask. It answers page walks,
/// turns failed walks into faults for the page loaders, installs the PTEs loaders bring, and runs
/// system calls. Whatever changes or removes a valid translation is shot down on every CPU in the
/// mask before memory may free the frame. An operation that holds the mmap lock is one
/// <see cref="LockedOp"/> record, and the state it waits in says what comes next.
/// </summary>
// Ready ──Walk──▶ Walked, or ResolveFault to the page's loader;  ──InstallPte──▶ install, FaultResolved to the waiters
// Ready ──ReplacePte (eviction)──▶ replace, unlocked flush, then PteReplaced;  ──madvise(PAGEOUT)──▶ PageOut to memory
// Ready ──Syscall mlock | munlock──▶ LockPages to memory, SyscallReturned (no PTE changes: nothing to shoot down)
// Ready ──Syscall mmap | munmap | mprotect | madvise(DONTNEED) | mremap (MovePages to memory first)──▶ Flushing(Call) ──last ShootdownCompleted──▶ Ready, SyscallReturned
// Ready ──InstallPte over another frame (COW break)──▶ Flushing(CowBreak) ──last ShootdownCompleted──▶ Ready, new PTE, FaultResolved
// Ready ──Syscall fork──▶ Flushing(Fork) ──last ShootdownCompleted──▶ StartForked to the child's mm, AddReferences to memory:
//       Referencing(Fork) ──ReferencesAdded──▶ Ready, ProcessReady to the machine, SyscallReturned
// Unborn (a forked child's mm, made with the run) ──StartForked──▶ Ready; until then everything but ReportAddressSpace is stashed
// (with nothing to shoot down an operation goes on at once, without waiting in Flushing)
// Flushing | Referencing hold the mmap lock: Walk, InstallPte, ReplacePte, Syscall, KillProcess, LookupRegion and
//   CpuAttached are stashed until Ready
// Ready ──Syscall exit | KillProcess──▶ Ended: walks refused, installs and replacements refused, syscalls fail
// every state: ShootdownCompleted of an unlocked flush (an eviction's, the exit's, publish-before-flush's), PagedOut, ReportAddressSpace
public sealed class AddressSpaceActor : SimulationActor, IWithStash
{
    private readonly ProcessId _pid;
    private readonly Asid _asid;
    private readonly AddressSpaceSettings _settings;
    private readonly RunContext _run;
    private readonly SimTime _time;
    private readonly FaultTrace _trace;
    private readonly Func<FileId, ulong> _fileSize; // made once: a fault would allocate a closure per call
    private readonly Waker _waker;
    private readonly AddressSpace _mm;
    private readonly Dictionary<string, (VirtualAddress Start, ulong Length)> _regions = [];
    private readonly Dictionary<ShootdownId, long> _rounds = [];    // a round in flight → its flush
    private readonly Dictionary<long, Flush> _flushes = [];         // a flush waiting for its rounds
    private readonly Dictionary<long, PageOutCall> _pageOuts = [];  // madvise(PAGEOUT) calls memory is serving
    private readonly Receive _ready, _ended;
    private readonly bool _forked;   // a child of a fork: Unborn until its parent's fork gives it its address space
    private long _forks, _nextRound, _nextFlush, _nextRequest;
    private int _shmemObjects;
    private readonly Counters _shootdowns = new(); // its shootdowns and IPIs, counted as the model counts them
    private long _syscallErrors;
    private ProcessFate _fate = ProcessFate.Running;

    /// <param name="setup">The process's address space; null for a child of a fork, which gets it from its parent (<see cref="StartForked"/>).</param>
    public AddressSpaceActor(Asid asid, AddressSpaceSetup? setup, AddressSpaceSettings settings, RunContext run)
        : base(setup is null ? nameof(Unborn) : nameof(Ready), run.WaitBound, run.Coverage, run.Traffic)
    {
        (_asid, _pid) = (asid, asid.Pid);
        _settings = settings;
        _run = run;
        _time = new SimTime(Context.System);
        _trace = new FaultTrace(run.Tracing, _time);
        _fileSize = settings.Files.Size;
        _waker = new Waker(Self.Path.Name, run, _time, Self, cpu => Peers.Tlb(cpu));
        (_ready, _ended) = (Ready, Ended);
        _mm = new AddressSpace(asid);
        _forked = setup is null;
        if (setup is not null)
            Set(setup);
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(Asid asid, AddressSpaceSetup? setup, AddressSpaceSettings settings, RunContext run) =>
        ActorFactory.Props(() => new AddressSpaceActor(asid, setup, settings, run));

    protected override bool Receive(object message) => _forked ? Unborn(message) : Ready(message);

    /// <summary>The mm's start: a process's regions mapped (merged where alike, as mmap does), or a fork's copy exactly as it is.</summary>
    private void Set(AddressSpaceSetup setup, bool forked = false)
    {
        if (forked)
            _mm.Vmas.Restore(setup.Vmas);
        else
        {
            foreach (var vma in setup.Vmas)
                _mm.Vmas.Map(vma);
        }
        foreach (var (page, pte) in setup.Entries)
            _mm.Pages[page] = pte;
        foreach (var (name, region) in setup.Regions)
            _regions[name] = region;
        _shmemObjects = setup.ShmemObjects;
    }

    /// <summary>A forked child's mm before its fork: what reaches it waits for the parent's copy of the address space.</summary>
    private bool Unborn(object message)
    {
        if (message is StartForked start)
        {
            Set(start.Setup, forked: true);
            Unlock();
            return true;
        }
        if (message is ReportAddressSpace)
            return Common(message);
        Stash.Stash();
        return true;
    }

    private bool Ready(object message)
    {
        switch (message)
        {
            case Walk walk:
                OnWalk(walk);
                return true;
            case InstallPte install:
                OnInstall(install);
                return true;
            case ReplacePte replace:
                OnReplace(replace);
                return true;
            case Syscall call:
                OnSyscall(call);
                return true;
            case KillProcess kill:
                End(kill.Fate, kill.Cpu, exit: null);
                return true;
            case LookupRegion lookup:
                OnLookupRegion(lookup);
                return true;
            case CpuAttached attached:
                _mm.SwitchIn(attached.Cpu);
                Acknowledge(attached);
                return true;
            default:
                return Common(message);
        }
    }

    /// <summary>The mmap lock is held by <paramref name="op"/>, which waits for the acknowledgements of its shootdown.</summary>
    private bool Flushing(LockedOp op, object message)
    {
        if (message is ShootdownCompleted done && _rounds.ContainsKey(done.Id))
        {
            if (RoundCompleted(done))
                Flushed(op);
            return true;
        }
        return LockedOut(message) || Common(message);
    }

    /// <summary>A fork under the mmap lock waits for memory to count the child's references; then the child may run.</summary>
    private bool Referencing(LockedOp.Fork fork, object message)
    {
        if (message is ReferencesAdded added && added.Id == fork.Request)
        {
            var child = fork.Child;
            Peers.Machine.Tell(new ProcessReady(child.Pid, child.Name, child.StackPointer, child.Regions)); // only now may a CPU run the child
            Peers.Cpu(fork.Syscall.Cpu).Tell(new SyscallReturned(fork.Syscall.Id, Failed: false, ProcessFate.Running));
            Unlock();
            return true;
        }
        return LockedOut(message) || Common(message);
    }

    private void Acknowledge(CpuAttached attached)
    {
        if (attached.Acknowledge)
            Peers.Cpu(attached.Cpu).Tell(new CpuAttachAcknowledged(_asid));
    }

    /// <summary>While the mmap lock is held, what needs the page table or the VMAs waits.</summary>
    private bool LockedOut(object message)
    {
        if (message is not (Walk or InstallPte or ReplacePte or Syscall or KillProcess or LookupRegion or CpuAttached))
            return false;
        Stash.Stash();
        return true;
    }

    private bool Ended(object message)
    {
        switch (message)
        {
            case Walk walk:
                Sender.Tell(new WalkRefused(walk.Id, _fate));
                return true;
            case InstallPte install:
                Refuse(install); // the waiters walk again and find the process gone
                return true;
            case Syscall call:
                Peers.Cpu(call.Cpu).Tell(new SyscallReturned(call.Id, Failed: true, _fate));
                return true;
            case ReplacePte replace:
                Refuse(replace);
                return true;
            case KillProcess:
                return true; // a second fatal signal (another CPU's fault raced the first): the process is gone already
            case LookupRegion lookup:
                OnLookupRegion(lookup);
                return true;
            case CpuAttached attached:
                Acknowledge(attached); // nothing of it runs any more
                return true;
            default:
                return Common(message);
        }
    }

    /// <summary>What every state takes: the rounds of unlocked flushes, page-outs' ends, the end-of-run report.</summary>
    private bool Common(object message)
    {
        switch (message)
        {
            case ShootdownCompleted done when _rounds.ContainsKey(done.Id):
                if (RoundCompleted(done))
                    throw new InvalidOperationException($"{Self.Path.Name}: the locked operation's flush ended in state {StateName}");
                return true;
            case PagedOut paged when _pageOuts.Remove(paged.Id, out var pageOut):
                Peers.Cpu(pageOut.Call.Cpu).Tell(new SyscallReturned(pageOut.Call.Id, Failed: false, _fate));
                return true;
            case WillNeeded done when _pageOuts.Remove(done.Id, out var willNeed):
                Peers.Cpu(willNeed.Call.Cpu).Tell(new SyscallReturned(willNeed.Call.Id, Failed: false, _fate));
                return true;
            case ReportAddressSpace report:
                Sender.Tell(new AddressSpaceReport(_pid, _fate, report.WithEntries ? Entries() : [],
                    _shootdowns.Shootdowns, _shootdowns.Ipis, _syscallErrors, MessagesReceived));
                return true;
            default:
                return false;
        }
    }

    private void OnWalk(Walk walk)
    {
        var (pte, access, allows) = _mm.Walk(walk.Address, walk.Access, walk.Mode, _settings.Smap);
        if (!walk.ProtectionFault && allows)
        {
            Sender.Tell(new Walked(walk.Id, Translation.Of(pte)));
            return;
        }
        var code = FaultErrorCode.Raised(access, walk.Mode, walk.ProtectionFault, pte);
        var input = _mm.FaultInputFor(walk.Address, code, walk.StackPointer, _settings.Stack,
            walk.Mode.ReturnsEfault(), _settings.ZeroPage, _fileSize, forced: walk.Mode == AccessMode.Forced);
        var page = new PageKey(_asid, walk.Address.Page);
        _run.Events?.Record(Self.Path.Name, Peers.Loaders.Path.Name, new SimEvent.FaultRaised(walk.Id.Value, walk.Cpu, page, walk.Address, code));
        _trace.Span(walk.Trace, Instruments.Spans.PageWalk, Math.Min(walk.StartedAt, _time.NowNanos)); // the walk that failed: a fault now
        _time.Send(Peers.Loaders, new ResolveFault(walk.Id, walk.Cpu, page, _pid, input, _forks, walk.Trace,
            walk.Trace.IsSampled ? _time.NowNanos : 0), // when it was raised: for its span only
            _run.Latencies.FaultEntry, Self);
    }

    /// <summary>Every PTE of the page table, in one array of exactly their number.</summary>
    private ImmutableArray<(PageNumber Page, Pte Pte)> Entries()
    {
        var entries = ImmutableArray.CreateBuilder<(PageNumber, Pte)>(checked((int)_mm.Pages.MappedEntries));
        entries.AddRange(_mm.Pages.Entries(new PageNumber(0), VirtualAddress.UserEnd.Page));
        return entries.DrainToImmutable();
    }

    private void OnInstall(InstallPte install)
    {
        var page = new PageKey(_asid, install.Page);
        var now = _mm.Pages[install.Page];
        var vmaOrSharingChanged = !VmaStillMaps(install) || install.Forks != _forks;
        if ((now != install.Expected && !MapsOverPresent(install)) || vmaOrSharingChanged)
        {
            // The page, its VMA or its sharing changed since the fault was raised (the per-VMA check of a kernel
            // with per-VMA locks): nothing is installed, everyone faults again — counted when the fault lost a race to
            // the page itself, as Linux counts it.
            Refuse(install, FaultHandler.LostRace(install.Expected, now, vmaOrSharingChanged));
            return;
        }
        if (install.GrowStackTo is { } newStart)
        {
            _mm.Vmas.GrowDown(_mm.Vmas.Find(newStart)!, newStart);
        }
        if (InstallRules.ReplacesFrame(now, install.New) && !_run.Bugs.PublishBeforeFlush)
        {
            GiveBackAround(install);
            ReplaceFrame(install, page);
            return;
        }
        var change = _mm.Install(install.Page, install.New);
        _run.Events?.Record(Self.Path.Name, null, new SimEvent.PteInstalled(page, change.Old, change.New));
        if (_run.Events is not null && _mm.Vmas.Find(install.Page.BaseAddress) is null)
            _run.Events.Record(Self.Path.Name, null, new SimEvent.PteOutsideVma(page, change.New.Frame));
        TraceInstall(install);
        if (change.Old.IsSwapped)
            Peers.Memory.Tell(new SwapEntryDropped(change.Old.Slot)); // the PTE names the frame now, not the slot
        if (!InstallRules.ReplacesFrame(change.Old, change.New))
        {
            InstallAround(install);
            Wake(install);
            return;
        }
        GiveBackAround(install);
        PublishedBeforeFlush(install, page, change);
    }

    /// <summary>Fault-around: each neighbour memory prepared goes in where its PTE is empty and its VMA maps it alike, else back to memory.</summary>
    private void InstallAround(InstallPte install)
    {
        foreach (var (page, pte) in install.Around)
        {
            var key = new PageKey(_asid, page);
            if (!MemoryManager.MapsAround(_mm.Pages[page]) || install.Vma?.MapsAlike(_mm.Vmas.Find(page.BaseAddress), page) != true)
            {
                Peers.Memory.Tell(new Unprepare(key, pte.Frame));
                continue;
            }
            var change = _mm.Install(page, pte);
            _run.Events?.Record(Self.Path.Name, null, new SimEvent.PteInstalled(key, change.Old, change.New));
        }
    }

    /// <summary>The page's install was refused (or replaces a frame, which no read fault does): its neighbours go back to memory.</summary>
    private void GiveBackAround(InstallPte install)
    {
        foreach (var (page, pte) in install.Around)
            Peers.Memory.Tell(new Unprepare(new PageKey(_asid, page), pte.Frame));
    }

    /// <summary>
    /// Whether the VMA the fault was resolved in still maps the page alike (the re-check after the mmap lock was let go for
    /// the disk read, as a retried fault finds its VMA again). Planted bug skip-vma-recheck: not asked.
    /// </summary>
    private bool VmaStillMaps(InstallPte install) =>
        _run.Bugs.SkipVmaRecheck || install.Vma?.MapsAlike(_mm.Vmas.Find(install.Page.BaseAddress), install.Page) == true;

    /// <summary>Planted bug map-over-present: a fault's install over a present PTE is not refused (only a PTE the fault saw empty).</summary>
    private bool MapsOverPresent(InstallPte install) => _run.Bugs.MapOverPresent && install.Expected.IsNone;

    /// <summary>Planted bug publish-before-flush: the new PTE is out while other CPUs may still reach the old frame.</summary>
    private void PublishedBeforeFlush(InstallPte install, PageKey page, PteChange change)
    {
        var released = Release([change], replaced: true);
        var then = new AfterFlush.Wake(install);
        if (!Shootdown([change], install.Cpu, includeInitiator: false, released, then, install.Trace))
            After(then);
    }

    private void Wake(InstallPte install) =>
        _waker.Installed(install.Waiters, new PageKey(_asid, install.Page), install.Report, Translation.Of(install.New));

    /// <summary>
    /// A frame replaced (a COW break), as wp_page_copy does it: the old entry is cleared and flushed from every other CPU
    /// first, under the page-table lock (walks and installs wait), and only then is the new one published — else one CPU
    /// could write the new frame while another still reads the old. The faulting CPU's own entry is replaced when it is
    /// woken with the new translation.
    /// </summary>
    private void ReplaceFrame(InstallPte install, PageKey page)
    {
        var cleared = _mm.Install(install.Page, Pte.None);
        _run.Events?.Record(Self.Path.Name, null, new SimEvent.PteInstalled(page, cleared.Old, cleared.New));
        FlushLocked(new LockedOp.CowBreak(install), ShootdownRules.Rounds(_settings.Shootdown, _asid, [cleared]), install.Cpu, includeInitiator: false,
            Release([cleared], replaced: true), install.Trace);
    }

    /// <summary>The spans of a sampled fault's install: memory's work on the frame since it began, then the PTE.</summary>
    private void TraceInstall(InstallPte install)
    {
        if (!install.Trace.IsSampled)
            return;
        if (install.Work != PageWork.None)
            _trace.Span(install.Trace, install.Work == PageWork.Zeroed ? Instruments.Spans.PageZero : Instruments.Spans.PageCopy, install.PreparedAt);
        _trace.Span(install.Trace, Instruments.Spans.PteInstall, _time.NowNanos);
    }

    /// <summary>An eviction takes the page's frame: the PTE gets its replacement, and no CPU may use the old one after the reply.</summary>
    private void OnReplace(ReplacePte replace)
    {
        var page = new PageKey(_asid, replace.Page);
        var pte = _mm.Pages[replace.Page];
        if (!pte.HoldsFrame || pte.Frame != replace.Frame || _mm.Vmas.FindContaining(replace.Page.BaseAddress)?.IsLocked == true)
        {
            Refuse(replace); // a fault or a call got there first — or an mlock: try_to_unmap leaves a locked VMA's page
            return;
        }
        var change = _mm.Install(replace.Page, replace.Replacement);
        _run.Events?.Record(Self.Path.Name, null, new SimEvent.PteInstalled(page, change.Old, change.New));
        var then = new AfterFlush.Replaced(replace);
        if (!Shootdown([change], replace.Initiator, includeInitiator: true, released: null, then))
            After(then);
    }

    /// <summary>
    /// Nothing is installed: a frame memory prepared for it goes back, and every waiter faults again — each counted as
    /// <paramref name="lost"/> when the fault lost a race to the page (<see cref="FaultHandler.LostRace"/>), else not.
    /// </summary>
    private void Refuse(InstallPte install, Resolution? lost = null)
    {
        var page = new PageKey(_asid, install.Page);
        if (install.FramePrepared)
            Peers.Memory.Tell(new Unprepare(page, install.New.Frame));
        GiveBackAround(install);
        if (lost is not null)
            _waker.Lost(install.Waiters, page, install.Report, lost.Kind);
        else
            _waker.Retry(install.Waiters, page);
    }

    private void Refuse(ReplacePte replace) =>
        Peers.Memory.Tell(new PteReplaced(replace.EvictionId, new PageKey(_asid, replace.Page), Replaced: false));

    private void OnLookupRegion(LookupRegion lookup) =>
        Sender.Tell(_regions.TryGetValue(lookup.Name, out var region)
            ? new RegionFound(lookup.Name, region.Start, region.Length)
            : new RegionFound(lookup.Name, default, 0));

    private void OnSyscall(Syscall call)
    {
        _run.Events?.Record(Sender.Path.Name, Self.Path.Name, new SimEvent.SyscallMade(call.Cpu, call.Call.ToString()));
        switch (call.Call)
        {
            case var refused when SyscallRules.Refuses(refused):
                Fail(call); // EINVAL
                break;
            case SystemCall.Mmap map:
                var vma = _settings.Files.VmaFor(map, _pid, ref _shmemObjects);
                RegionMoved(map.Name, map.Start, map.Length, call.Cpu);
                Settle(call, _mm.Map(vma));
                break;
            case SystemCall.Mlock mlock:
                if (_mm.Lock(mlock.Start, mlock.End, mlock.Locks) is not { } frames)
                {
                    Fail(call); // ENOMEM: part of the range is unmapped
                    break;
                }
                if (frames.Count > 0) // memory hears it before any fault the populate raises
                    Peers.Memory.Tell(new LockPages([.. frames.Select(f => new PageRelease(new PageKey(_asid, f.Page), f.Frame, null))], mlock.Locks));
                Peers.Cpu(call.Cpu).Tell(new SyscallReturned(call.Id, Failed: false, ProcessFate.Running));
                break;
            case SystemCall.Mremap remap:
                if (_mm.Remap(remap, out _) is not { } remapping)
                    Fail(call); // EFAULT, ENOMEM
                else
                    Remap(call, remap, remapping);
                break;
            case SystemCall.Munmap unmap:
                Settle(call, _mm.Unmap(unmap.Start, unmap.End));
                break;
            case SystemCall.Mprotect protect:
                if (_mm.Protect(protect.Start, protect.End, protect.Protection) is { } changes)
                    Settle(call, changes);
                else
                    Fail(call); // ENOMEM: part of the range is unmapped
                break;
            case SystemCall.Madvise advise:
                Advise(call, _mm.Madvise(advise, _fileSize, _settings.Readahead));
                break;
            case SystemCall.Fork fork:
                Fork(call, fork);
                break;
            case SystemCall.Exit:
                End(ProcessFate.Exited, call.Cpu, call);
                break;
        }
    }

    /// <summary>madvise, as the model decides it: this mm settles its own part, memory is sent its part.</summary>
    private void Advise(Syscall call, AdviceEffect effect)
    {
        switch (effect)
        {
            case AdviceEffect.Zapped zapped:
                Settle(call, zapped.Changes);
                break;
            case AdviceEffect.ReadAdviceSet:
                Settle(call, []); // the VMAs' read advice; no PTE changes
                break;
            case AdviceEffect.PageOut pageOut:
                PageOut(call, pageOut.Frames);
                break;
            case AdviceEffect.ReadAhead willNeed:
                WillNeed(call, willNeed.Windows);
                break;
            default:
                Fail(call); // ENOMEM, or EINVAL for a locked VMA
                break;
        }
    }

    /// <summary>
    /// MADV_PAGEOUT: memory reclaims those of <paramref name="frames"/> this process alone maps. The mmap lock is not held
    /// meanwhile: the evictions come back to this mm to replace the PTEs.
    /// </summary>
    private void PageOut(Syscall call, IReadOnlyList<FrameNumber> frames)
    {
        var id = ++_nextRequest;
        _pageOuts[id] = new PageOutCall(call);
        Peers.Memory.Tell(new PageOut(id, _pid, call.Cpu, [.. frames]));
    }

    /// <summary>
    /// MADV_WILLNEED: memory reads the windows of the range's file pages (one request each); the call returns once they are
    /// read. The mmap lock is not held meanwhile (as for MADV_PAGEOUT).
    /// </summary>
    private void WillNeed(Syscall call, IReadOnlyList<ReadaheadWindow> windows)
    {
        var id = ++_nextRequest;
        _pageOuts[id] = new PageOutCall(call);
        Peers.Memory.Tell(new WillNeed(id, _pid, [.. windows]));
    }

    /// <summary>
    /// mremap's changes: memory finds the moved frames at their new pages at once (none is freed), the old PTEs are shot
    /// down and a shrink's tail released, and the call returns where the region is now.
    /// </summary>
    private void Remap(Syscall call, SystemCall.Mremap remap, Remapping remapping)
    {
        if (remapping.Moves.Count > 0)
        {
            Peers.Memory.Tell(new MovePages(_asid, [.. remapping.Moves], remapping.Locked)); // memory records the move as it makes it
        }
        if (_regions.ContainsKey(remap.Region))
            RegionMoved(remap.Region, remapping.Result.Start, remap.NewLength, call.Cpu);
        FlushLocked(new LockedOp.Call(call, remapping.Result), RangeRounds(call, remapping.Changes), call.Cpu, includeInitiator: true,
            Release(remapping.Dropped));
    }

    /// <summary>The region <paramref name="name"/> is here now: the machine and the other CPUs that have run the process hear it (the caller's program knows).</summary>
    private void RegionMoved(string name, VirtualAddress start, ulong length, CpuId caller)
    {
        _regions[name] = (start, length);
        var changed = new RegionChanged(_asid, name, start, length);
        Peers.Machine.Tell(changed);
        foreach (var cpu in _mm.Cpus.Cpus)
        {
            if (cpu != caller)
                Peers.Cpu(cpu).Tell(changed);
        }
    }

    private void Fail(Syscall call)
    {
        _syscallErrors++;
        Peers.Cpu(call.Cpu).Tell(new SyscallReturned(call.Id, Failed: true, ProcessFate.Running));
    }

    /// <summary>
    /// A system call's PTE changes: shoot down what TLBs may hold — what the changes revoke, and what of the call's range
    /// a round still in flight covers (an eviction's, whose PTE is a swap entry already) — release what is gone, return.
    /// </summary>
    private void Settle(Syscall call, IReadOnlyList<PteChange> changes) =>
        FlushLocked(new LockedOp.Call(call), RangeRounds(call, changes), call.Cpu, includeInitiator: true, Release(changes));

    private IReadOnlyList<ShootdownScope> RangeRounds(Syscall call, IReadOnlyList<PteChange> changes) =>
        ShootdownRules.RangeRounds(_settings.Shootdown, _mm, ShootdownRules.RangeOf(call.Call), changes);

    /// <summary>
    /// fork under the mmap lock: write-protect the parent's private pages and shoot them down, have the machine start
    /// the child's mm, make memory count the child's references, and only then let CPUs run the child and return.
    /// </summary>
    private void Fork(Syscall call, SystemCall.Fork fork)
    {
        _forks++; // a decision made before the fork may have seen a frame as unshared
        var childAsid = Asid.Of(fork.ChildPid);
        var (child, parentChanges) = _mm.Fork(childAsid);
        var entries = child.Pages.Entries(new PageNumber(0), VirtualAddress.UserEnd.Page).ToImmutableArray();
        var references = entries.Select(e => PageRelease.Of(new PageKey(childAsid, e.Page), e.Pte)).ToImmutableArray();
        var setup = new AddressSpaceSetup(fork.ChildPid, fork.Child, childAsid, [.. child.Vmas.All], entries,
            _regions.ToImmutableDictionary(), call.StackPointer);
        FlushLocked(new LockedOp.Fork(call, setup, references), RangeRounds(call, parentChanges), call.Cpu, includeInitiator: true, released: null);
    }

    /// <summary>
    /// Takes the mmap lock for <paramref name="op"/> and runs its rounds: it waits in Flushing for the
    /// acknowledgements, or goes on at once when there is nothing to shoot down.
    /// </summary>
    private void FlushLocked(LockedOp op, IReadOnlyList<ShootdownScope> rounds, CpuId initiator, bool includeInitiator, ReleasePages? released,
        TraceContext trace = default)
    {
        if (StartFlush(rounds, Targets(initiator, includeInitiator), initiator, released, AfterFlush.Locked.Instance, trace))
            BecomeWaiting(nameof(Flushing), m => Flushing(op, m), "the acknowledgements of its shootdown rounds (ShootdownCompleted)", op);
        else
            Flushed(op);
    }

    /// <summary>The locked operation's changes are shot down everywhere: what comes next.</summary>
    private void Flushed(LockedOp op)
    {
        switch (op)
        {
            case LockedOp.Call call:
                Peers.Cpu(call.Syscall.Cpu).Tell(new SyscallReturned(call.Syscall.Id, Failed: false, ProcessFate.Running, call.Remapped));
                Unlock();
                break;
            case LockedOp.CowBreak { Install: var install }:
                var page = new PageKey(_asid, install.Page);
                var change = _mm.Install(install.Page, install.New);
                _run.Events?.Record(Self.Path.Name, null, new SimEvent.PteInstalled(page, change.Old, change.New));
                TraceInstall(install);
                Wake(install);
                Unlock();
                break;
            case LockedOp.Fork fork:
                Peers.AddressSpace(fork.Child.Asid).Tell(new StartForked(fork.Child));
                var id = ++_nextRequest;
                Peers.Memory.Tell(new AddReferences(id, _pid, fork.Child.Asid, fork.References));
                var next = fork with { Request = id };
                BecomeWaiting(nameof(Referencing), m => Referencing(next, m), "memory to count the child's references (ReferencesAdded)", next);
                break;
        }
    }

    /// <summary>The locked operation is over: what waited for the lock goes on.</summary>
    private void Unlock()
    {
        Become(nameof(Ready), _ready);
        Stash.UnstashAll();
    }

    /// <summary>Exit or a fatal signal: every translation goes from every CPU that ran the mm, then every page.</summary>
    private void End(ProcessFate fate, CpuId initiator, Syscall? exit)
    {
        var changes = _mm.Teardown();
        _fate = fate;
        Become(nameof(Ended), _ended);
        _run.Events?.Record(Self.Path.Name, null, new SimEvent.ProcessEnded(_pid, fate));
        var released = Release(changes);
        var then = new AfterFlush.Ended(fate, exit);
        if (!StartFlush([ShootdownScope.Everything(_asid)], Targets(initiator, includeInitiator: true), initiator, released, then))
            After(then);
        Stash.UnstashAll(); // whatever waited for the lock now meets the ended process
    }

    /// <summary>
    /// Shoots down the changes that need it, grouped by the configured mode; once every round is acknowledged, memory
    /// may drop <paramref name="released"/> and <paramref name="then"/> follows. False when nothing needed a round:
    /// <paramref name="released"/> is dropped already, and the caller goes on at once.
    /// </summary>
    private bool Shootdown(IReadOnlyList<PteChange> changes, CpuId initiator, bool includeInitiator, ReleasePages? released, AfterFlush then,
        TraceContext trace = default) =>
        StartFlush(ShootdownRules.Rounds(_settings.Shootdown, _asid, changes), Targets(initiator, includeInitiator), initiator, released, then, trace);

    private ImmutableArray<CpuId> Targets(CpuId initiator, bool includeInitiator) =>
        [.. _mm.Cpus.Cpus.Where(c => includeInitiator || c != initiator)];

    /// <summary>Starts one round per scope, all to be acknowledged before <paramref name="then"/>; false (and frees) if there is none.</summary>
    private bool StartFlush(IReadOnlyList<ShootdownScope> scopes, ImmutableArray<CpuId> targets, CpuId initiator, ReleasePages? released,
        AfterFlush then, TraceContext trace = default)
    {
        if (scopes.Count == 0 || targets.IsEmpty)
        {
            Free(released);
            return false;
        }
        var flush = ++_nextFlush;
        _flushes[flush] = new Flush(scopes.Count, released, then);
        foreach (var scope in scopes)
        {
            var id = new ShootdownId(++_nextRound);
            _rounds[id] = flush;
            _mm.FlushesPending.Started(id.Value, scope);
            _run.Events?.Record(Self.Path.Name, $"shootdown-{id.Value}",
                new SimEvent.ShootdownStarted(id.Value, scope.Asid, scope.From, scope.To, scope.All, targets));
            Context.ActorOf(ShootdownRound.Props(new ShootdownOrder(id, scope, targets, initiator, _settings.Shootdown, trace), Peers, _run), $"shootdown-{id.Value}");
        }
        FreeBeforeAcks(released);
        return true;
    }

    /// <summary>
    /// A round is acknowledged by every target. If it was its flush's last, memory may drop the flush's pages and what
    /// follows an unlocked flush happens; true when the flush was the locked operation's (its state goes on).
    /// </summary>
    private bool RoundCompleted(ShootdownCompleted done)
    {
        _shootdowns.CountShootdown(done.Ipis);
        _rounds.Remove(done.Id, out var id);
        _mm.FlushesPending.Finished(done.Id.Value);
        _run.Events?.Record(Self.Path.Name, null, new SimEvent.ShootdownFinished(done.Id.Value, done.Ipis));
        var flush = _flushes[id];
        if (flush.Remaining > 1)
        {
            _flushes[id] = flush with { Remaining = flush.Remaining - 1 };
            return false;
        }
        _flushes.Remove(id);
        FreeAfterAcks(flush.Released);
        if (flush.Then is AfterFlush.Locked)
            return true;
        After(flush.Then);
        return false;
    }

    /// <summary>What follows a flush that holds no lock.</summary>
    private void After(AfterFlush then)
    {
        switch (then)
        {
            case AfterFlush.Wake wake:
                Wake(wake.Install);
                break;
            case AfterFlush.Replaced { Replace: var replace }:
                Peers.Memory.Tell(new PteReplaced(replace.EvictionId, new PageKey(_asid, replace.Page), Replaced: true));
                break;
            case AfterFlush.Ended ended:
                Peers.Machine.Tell(new ProcessEnded(_pid, ended.Fate));
                if (ended.Exit is { } exit)
                    Peers.Cpu(exit.Cpu).Tell(new SyscallReturned(exit.Id, Failed: false, ProcessFate.Exited));
                break;
        }
    }

    /// <summary>Memory may drop the references of PTEs that are gone: after the shootdown's acknowledgements.</summary>
    private void FreeAfterAcks(ReleasePages? released)
    {
        if (!_run.Bugs.FreeBeforeAcks)
            Free(released);
    }

    /// <summary>Planted bug free-before-acks: the references go while TLBs may still map the frames, which memory may then reuse.</summary>
    private void FreeBeforeAcks(ReleasePages? released)
    {
        if (_run.Bugs.FreeBeforeAcks)
            Free(released);
    }

    private void Free(ReleasePages? released)
    {
        if (released is not null)
            Peers.Memory.Tell(released);
    }

    /// <summary>The references the changed PTEs held and no longer hold: frames replaced or gone, swap slots gone.</summary>
    private ReleasePages Release(IEnumerable<PteChange> changes, bool replaced = false) => new([.. PageRelease.Dropped(_asid, changes)], replaced);

    /// <summary>An operation that holds the mmap lock: its state (Flushing, Referencing) says what it waits for.</summary>
    private abstract record LockedOp
    {
        private LockedOp() { }

        /// <summary>mmap, munmap, mprotect, madvise(DONTNEED): once its changes are shot down, the call returns.</summary>
        public sealed record Call(Syscall Syscall, RemapResult? Remapped = null) : LockedOp;

        /// <summary>A COW break (wp_page_copy): once the old PTE is shot down, the new one is published and the waiters woken.</summary>
        public sealed record CowBreak(InstallPte Install) : LockedOp;

        /// <summary>fork: the parent's pages shot down, then the child's mm given its copy and its references counted; <see cref="Request"/> is the one out.</summary>
        public sealed record Fork(Syscall Syscall, AddressSpaceSetup Child, ImmutableArray<PageRelease> References, long Request = 0) : LockedOp;
    }

    /// <summary>What follows when a flush's rounds are all acknowledged.</summary>
    private abstract record AfterFlush
    {
        private AfterFlush() { }

        /// <summary>The locked operation goes on (its state knows how).</summary>
        public sealed record Locked : AfterFlush
        {
            public static readonly Locked Instance = new();
        }

        /// <summary>Planted bug publish-before-flush: the PTE is out already; its waiters are woken.</summary>
        public sealed record Wake(InstallPte Install) : AfterFlush;

        /// <summary>An eviction's PTE is replaced everywhere: memory hears PteReplaced.</summary>
        public sealed record Replaced(ReplacePte Replace) : AfterFlush;

        /// <summary>The process ended: the machine hears it, and an exit call returns.</summary>
        public sealed record Ended(ProcessFate Fate, Syscall? Exit) : AfterFlush;
    }

    /// <summary>A flush: how many of its rounds are still out, what memory may drop after them, and what follows.</summary>
    private sealed record Flush(int Remaining, ReleasePages? Released, AfterFlush Then);

    /// <summary>madvise(PAGEOUT): memory evicts, then the call returns.</summary>
    private sealed record PageOutCall(Syscall Call);
}

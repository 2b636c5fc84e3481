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
/// mask before memory may free the frame.
/// </summary>
// Ready ──Syscall──▶ Locked (mmap lock held for writing: walks, installs, syscalls wait) ──done──▶ Ready
// Ready | Locked ──exit, fatal signal──▶ Ended (walks refused, installs rejected)
public sealed class AddressSpaceActor : SimulationActor, IWithStash
{
    private readonly AddressSpaceSetup _setup;
    private readonly AddressSpaceSettings _settings;
    private readonly RunContext _run;
    private readonly SimTime _time;
    private readonly FaultTrace _trace;
    private readonly Func<FileId, ulong> _fileSize; // made once: a fault would allocate a closure per call
    private readonly Waker _waker;
    private readonly IActorRef _machine, _memory, _loaders;
    private readonly ImmutableArray<IActorRef> _tlbs;
    private readonly AddressSpace _mm;
    private readonly Dictionary<string, (VirtualAddress Start, ulong Length)> _regions;
    private readonly Dictionary<ShootdownId, Action> _rounds = [];
    private readonly Dictionary<long, Action> _requests = [];
    private long _forks, _nextRound, _nextRequest;
    private int _shmemObjects;
    private long _shootdowns, _ipis, _syscallErrors;
    private ProcessFate _fate = ProcessFate.Running;
    private IActorRef? _spawned; // the child's mm, while a fork is under way

    public AddressSpaceActor(AddressSpaceSetup setup, AddressSpaceSettings settings, IActorRef machine, IActorRef memory, IActorRef loaders,
        ImmutableArray<IActorRef> tlbs, RunContext run)
    {
        _setup = setup;
        _settings = settings;
        _run = run;
        _time = new SimTime(Context.System);
        _trace = new FaultTrace(run.Tracing, _time);
        _fileSize = settings.Files.Size;
        _shmemObjects = setup.ShmemObjects;
        _waker = new Waker(Self.Path.Name, run, _time, Self);
        (_machine, _memory, _loaders, _tlbs) = (machine, memory, loaders, tlbs);
        _mm = new AddressSpace(setup.Asid);
        foreach (var vma in setup.Vmas)
            _mm.Vmas.Map(vma);
        foreach (var (page, pte) in setup.Entries)
            _mm.Pages[page] = pte;
        _regions = new Dictionary<string, (VirtualAddress, ulong)>(setup.Regions);
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(AddressSpaceSetup setup, AddressSpaceSettings settings, IActorRef machine, IActorRef memory, IActorRef loaders,
        ImmutableArray<IActorRef> tlbs, RunContext run) =>
        Akka.Actor.Props.Create(typeof(AddressSpaceActor), setup, settings, machine, memory, loaders, tlbs, run);

    protected override bool Receive(object message) => Ready(message);

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
                End(kill.Fate, kill.Cpu, reply: null);
                return true;
            case LookupRegion lookup:
                OnLookupRegion(lookup);
                return true;
            case CpuAttached attached:
                _mm.Cpus.Add(attached.Cpu); // switch_mm: from now on the CPU may cache this mm's translations
                return true;
            default:
                return Common(message);
        }
    }

    /// <summary>While a system call holds the mmap lock: its own replies go on, everything else waits.</summary>
    private bool Locked(object message)
    {
        if (message is Walk or InstallPte or ReplacePte or Syscall or KillProcess or LookupRegion or CpuAttached)
        {
            Stash.Stash();
            return true;
        }
        return Common(message);
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
                Sender.Tell(new SyscallReturned(call.Id, Failed: true, _fate));
                return true;
            case ReplacePte replace:
                Refuse(replace);
                return true;
            case KillProcess:
                return true;
            case LookupRegion lookup:
                OnLookupRegion(lookup);
                return true;
            case CpuAttached:
                return true; // nothing of it runs any more
            default:
                return Common(message);
        }
    }

    /// <summary>Replies to the mm's own requests, in every state.</summary>
    private bool Common(object message)
    {
        switch (message)
        {
            case ShootdownCompleted done:
                _ipis += done.Ipis;
                if (done.Ipis > 0) _shootdowns++;
                if (_rounds.Remove(done.Id, out var then))
                    then();
                return true;
            case ReferencesAdded added:
                Continue(added.Id);
                return true;
            case ProcessSpawned spawned:
                _spawned = spawned.AddressSpace;
                Continue(spawned.RequestId);
                return true;
            case PagedOut paged:
                Continue(paged.Id);
                return true;
            case ReportAddressSpace report:
                Sender.Tell(new AddressSpaceReport(_setup.Pid, _fate, report.WithEntries ? Entries() : [],
                    _shootdowns, _ipis, _syscallErrors, MessagesReceived));
                return true;
            default:
                return false;
        }
    }

    private void OnWalk(Walk walk)
    {
        var pte = _mm.Pages[walk.Address.Page];
        var user = walk.Mode == AccessMode.User;
        if (!walk.ProtectionFault && pte.Allows(walk.Access, user))
        {
            Sender.Tell(new Walked(walk.Id, Translation.Of(pte)));
            return;
        }
        var code = FaultErrorCode.For(walk.Access, walk.ProtectionFault || pte.IsPresent, user);
        var input = _mm.FaultInputFor(walk.Address, code, walk.StackPointer, _settings.Stack,
            walk.Mode == AccessMode.UserCopy, _settings.ZeroPage, _fileSize);
        var page = new PageKey(_setup.Asid, walk.Address.Page);
        _run.Events?.Record(Self.Path.Name, _loaders.Path.Name, new SimEvent.FaultRaised(walk.Id.Value, walk.Cpu, page, walk.Address, code));
        _trace.Span(walk.Trace, Instruments.Spans.PageWalk, Math.Min(walk.StartedAt, _time.NowNanos)); // the walk that failed: a fault now
        _time.Send(_loaders, new ResolveFault(walk.Id, walk.Cpu, page, _setup.Pid, input, _forks, Self, Sender, walk.Trace, _time.NowNanos),
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
        var page = new PageKey(_setup.Asid, install.Page);
        if (_mm.Pages[install.Page] != install.Expected || install.Vma?.MapsAlike(_mm.Vmas.Find(install.Page.BaseAddress), install.Page) != true
            || install.Forks != _forks)
        {
            // The page, its VMA or its sharing changed since the fault was raised (the per-VMA check of a kernel
            // with per-VMA locks): nothing is installed, everyone faults again.
            Refuse(install);
            return;
        }
        if (install.GrowStackTo is { } newStart)
        {
            _mm.Vmas.GrowDown(_mm.Vmas.Find(newStart)!, newStart);
        }
        var old = _mm.Pages[install.Page];
        if (old.IsPresent && old.Frame != install.New.Frame && !_run.Bugs.PublishBeforeFlush)
        {
            ReplaceFrame(install, page, old);
            return;
        }
        var change = _mm.Install(install.Page, install.New);
        _run.Events?.Record(Self.Path.Name, null, new SimEvent.PteInstalled(page, change.Old, change.New));
        TraceInstall(install);
        if (change.Old.IsSwapped)
            _memory.Tell(new SwapEntryDropped(change.Old.Slot)); // the PTE names the frame now, not the slot
        void WakeAll() => _waker.Installed(install.Waiters, page, install.Report, Translation.Of(install.New));
        if (!change.Old.IsPresent || change.Old.Frame == change.New.Frame)
        {
            WakeAll();
            return;
        }
        // Planted bug publish-before-flush: the new PTE is out while other CPUs may still reach the old frame.
        var released = Release([change]);
        Shootdown([change], install.Cpu, includeInitiator: false, released, WakeAll, install.Trace);
    }

    /// <summary>
    /// A frame replaced (a COW break), as wp_page_copy does it: the old entry is cleared and flushed from every other CPU
    /// first, under the page-table lock (walks and installs wait), and only then is the new one published — else one CPU
    /// could write the new frame while another still reads the old. The faulting CPU's own entry is replaced when it is
    /// woken with the new translation.
    /// </summary>
    private void ReplaceFrame(InstallPte install, PageKey page, Pte old)
    {
        var cleared = _mm.Install(install.Page, Pte.None);
        _run.Events?.Record(Self.Path.Name, null, new SimEvent.PteInstalled(page, cleared.Old, cleared.New));
        var released = Release([cleared]);
        Lock(() => Shootdown([cleared], install.Cpu, includeInitiator: false, released, () =>
        {
            var change = _mm.Install(install.Page, install.New);
            _run.Events?.Record(Self.Path.Name, null, new SimEvent.PteInstalled(page, change.Old, change.New));
            TraceInstall(install);
            Unlock(() => _waker.Installed(install.Waiters, page, install.Report, Translation.Of(install.New)));
        }, install.Trace));
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
        var page = new PageKey(_setup.Asid, replace.Page);
        var pte = _mm.Pages[replace.Page];
        if (!pte.HoldsFrame || pte.Frame != replace.Frame)
        {
            Refuse(replace); // a fault or a call got there first
            return;
        }
        var change = _mm.Install(replace.Page, replace.Replacement);
        _run.Events?.Record(Self.Path.Name, null, new SimEvent.PteInstalled(page, change.Old, change.New));
        Shootdown([change], replace.Initiator, includeInitiator: true, released: null,
            () => replace.ReplyTo.Tell(new PteReplaced(replace.EvictionId, page, Replaced: true)));
    }

    /// <summary>Nothing is installed: a frame memory prepared for it goes back, and every waiter faults again.</summary>
    private void Refuse(InstallPte install)
    {
        var page = new PageKey(_setup.Asid, install.Page);
        if (install.FramePrepared)
            _memory.Tell(new Unprepare(page, install.New.Frame));
        _waker.Retry(install.Waiters, page);
    }

    private void Refuse(ReplacePte replace) =>
        replace.ReplyTo.Tell(new PteReplaced(replace.EvictionId, new PageKey(_setup.Asid, replace.Page), Replaced: false));

    private void OnLookupRegion(LookupRegion lookup) =>
        Sender.Tell(_regions.TryGetValue(lookup.Name, out var region)
            ? new RegionFound(lookup.Name, region.Start, region.Length)
            : new RegionFound(lookup.Name, default, 0));

    private void OnSyscall(Syscall call)
    {
        var caller = Sender;
        _run.Events?.Record(Sender.Path.Name, Self.Path.Name, new SimEvent.SyscallMade(call.Cpu, call.Request.ToString()));
        switch (call.Request)
        {
            case SyscallRequest.Mmap map when !AddressSpace.CanMap(map.Start, map.Length):
                Fail(call, caller); // EINVAL
                break;
            case SyscallRequest.Mmap map:
                var backing = _settings.Files.BackingFor(map.File, map.FileOffset, map.Flags, _setup.Pid, ref _shmemObjects);
                _regions[map.Name] = (map.Start, map.Length);
                Settle(call, caller, _mm.Map(new Vma(map.Start, map.Start + map.Length, map.Flags, backing)));
                break;
            case SyscallRequest.Munmap unmap:
                Settle(call, caller, _mm.Unmap(unmap.Start, unmap.End));
                break;
            case SyscallRequest.Mprotect protect:
                if (_mm.Protect(protect.Start, protect.End, protect.Protection) is { } changes)
                    Settle(call, caller, changes);
                else
                    Fail(call, caller); // ENOMEM: part of the range is unmapped
                break;
            case SyscallRequest.Madvise advise when _mm.Vmas.IsFullyMapped(advise.Start, advise.End) && advise.Advice == Advice.DontNeed:
                Settle(call, caller, _mm.DontNeed(advise.Start, advise.End));
                break;
            case SyscallRequest.Madvise advise when _mm.Vmas.IsFullyMapped(advise.Start, advise.End) && advise.Advice == Advice.PageOut:
                PageOut(call, caller, advise);
                break;
            case SyscallRequest.Madvise:
                Fail(call, caller);
                break;
            case SyscallRequest.Fork fork:
                Fork(call, caller, fork);
                break;
            case SyscallRequest.Exit:
                End(ProcessFate.Exited, call.Cpu, () => caller.Tell(new SyscallReturned(call.Id, Failed: false, ProcessFate.Exited)));
                break;
        }
    }

    /// <summary>
    /// MADV_PAGEOUT: memory reclaims the frames this process alone maps. The mmap lock is not held meanwhile:
    /// the evictions come back to this mm to replace the PTEs.
    /// </summary>
    private void PageOut(Syscall call, IActorRef caller, SyscallRequest.Madvise advise)
    {
        var frames = _mm.Pages.Entries(advise.Start.Page, advise.End.Page)
            .Where(e => e.Pte.IsPresent && e.Pte.Frame != FrameNumber.Zero).Select(e => e.Pte.Frame).ToImmutableArray();
        Request(id => _memory.Tell(new PageOut(id, _setup.Pid, call.Cpu, frames)),
            () => caller.Tell(new SyscallReturned(call.Id, Failed: false, _fate)));
    }

    private void Fail(Syscall call, IActorRef caller)
    {
        _syscallErrors++;
        caller.Tell(new SyscallReturned(call.Id, Failed: true, ProcessFate.Running));
    }

    /// <summary>A system call's PTE changes: shoot down what TLBs may hold, release what is gone, return.</summary>
    private void Settle(Syscall call, IActorRef caller, IReadOnlyList<PteChange> changes)
    {
        var released = Release(changes);
        Lock(() => Shootdown(changes, call.Cpu, includeInitiator: true, released,
            () => Unlock(() => caller.Tell(new SyscallReturned(call.Id, Failed: false, ProcessFate.Running)))));
    }

    /// <summary>
    /// fork under the mmap lock: write-protect the parent's private pages and shoot them down, have the machine start
    /// the child's mm, make memory count the child's references, and only then let CPUs run the child and return.
    /// </summary>
    private void Fork(Syscall call, IActorRef caller, SyscallRequest.Fork fork)
    {
        _forks++; // a decision made before the fork may have seen a frame as unshared
        var (child, parentChanges) = _mm.Fork(fork.ChildAsid);
        var entries = child.Pages.Entries(new PageNumber(0), VirtualAddress.UserEnd.Page).ToImmutableArray();
        var references = entries.Select(e => PageRelease.Of(new PageKey(fork.ChildAsid, e.Page), e.Pte)).ToImmutableArray();
        var setup = new AddressSpaceSetup(fork.ChildPid, fork.Child, fork.ChildAsid, [.. child.Vmas.All], entries,
            _regions.ToImmutableDictionary(), fork.StackPointer);
        Lock(() => Shootdown(parentChanges, call.Cpu, includeInitiator: true, released: null, () =>
            Request(id => _machine.Tell(new SpawnProcess(id, setup)), () =>
                Request(id => _memory.Tell(new AddReferences(id, _setup.Pid, fork.ChildAsid, _spawned!, references)), () =>
                    Unlock(() =>
                    {
                        _machine.Tell(new ProcessReady(fork.Child)); // only now may a CPU run the child
                        caller.Tell(new SyscallReturned(call.Id, Failed: false, ProcessFate.Running));
                    })))));
    }

    /// <summary>Exit or a fatal signal: every translation goes from every CPU that ran the mm, then every page.</summary>
    private void End(ProcessFate fate, CpuId initiator, Action? reply)
    {
        var changes = _mm.Teardown();
        _fate = fate;
        Become(Ended);
        _run.Events?.Record(Self.Path.Name, null, new SimEvent.ProcessEnded(_setup.Pid, fate));
        var released = Release(changes);
        var targets = Targets(initiator, includeInitiator: true);
        RunRound(ShootdownScope.Everything(_setup.Asid), targets, initiator, released, () =>
        {
            _machine.Tell(new ProcessEnded(_setup.Pid, fate));
            reply?.Invoke();
        });
        Stash.UnstashAll(); // whatever waited for the lock now meets the ended process
    }

    /// <summary>
    /// Shoots down the changes that need it, grouped by the configured mode; once every round is acknowledged, memory
    /// may drop <paramref name="released"/> and <paramref name="then"/> runs.
    /// </summary>
    private void Shootdown(IReadOnlyList<PteChange> changes, CpuId initiator, bool includeInitiator, ReleasePages? released, Action then,
        TraceContext trace = default)
    {
        var scopes = ShootdownRules.Rounds(_settings.Shootdown, _setup.Asid, changes);
        var targets = Targets(initiator, includeInitiator);
        if (scopes.Count == 0 || targets.IsEmpty)
        {
            Free(released);
            then();
            return;
        }
        var remaining = scopes.Count;
        foreach (var scope in scopes)
            RunRound(scope, targets, initiator, released: null, () => { if (--remaining == 0) { FreeAfterAcks(released); then(); } }, trace);
        FreeBeforeAcks(released);
    }

    private ImmutableArray<ShootdownTarget> Targets(CpuId initiator, bool includeInitiator) =>
        [.. _mm.Cpus.Cpus.Where(c => includeInitiator || c != initiator).Select(c => new ShootdownTarget(c, _tlbs[c.Value]))];

    private void RunRound(ShootdownScope scope, ImmutableArray<ShootdownTarget> targets, CpuId initiator, ReleasePages? released, Action then,
        TraceContext trace = default)
    {
        if (targets.IsEmpty)
        {
            Free(released);
            then();
            return;
        }
        var id = new ShootdownId(++_nextRound);
        _rounds[id] = () =>
        {
            _run.Events?.Record(Self.Path.Name, null, new SimEvent.ShootdownFinished(id.Value));
            FreeAfterAcks(released);
            then();
        };
        _run.Events?.Record(Self.Path.Name, $"shootdown-{id.Value}",
            new SimEvent.ShootdownStarted(id.Value, scope.Asid, scope.From, scope.To, scope.All, [.. targets.Select(t => t.Cpu)]));
        Context.ActorOf(ShootdownRound.Props(new ShootdownOrder(id, scope, targets, initiator, _settings.Shootdown, trace), _run), $"shootdown-{id.Value}");
        FreeBeforeAcks(released);
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
            _memory.Tell(released);
    }

    /// <summary>The references the changed PTEs held and no longer hold: frames replaced or gone, swap slots gone.</summary>
    private ReleasePages Release(IEnumerable<PteChange> changes) => new([.. PageRelease.Dropped(_setup.Asid, changes)]);

    /// <summary>Sends a request with a fresh id and runs <paramref name="then"/> when its reply names that id.</summary>
    private void Request(Action<long> send, Action then)
    {
        var id = ++_nextRequest;
        _requests[id] = then;
        send(id);
    }

    private void Continue(long id)
    {
        if (_requests.Remove(id, out var then))
            then();
    }

    private void Lock(Action body)
    {
        Become(Locked);
        body();
    }

    private void Unlock(Action reply)
    {
        reply();
        Become(Ready);
        Stash.UnstashAll();
    }
}

using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Disk;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Memory;
using Faultsim.Actors.Scheduling;
using Faultsim.Actors.Telemetry;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Common;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.PageTables;
using Faultsim.Model.Tlbs;
using Faultsim.Model.Vmas;

namespace Faultsim.Actors.Paging;

/// <summary>
/// The loader of one page being resolved: the only place where faults on that page meet. The first
/// fault makes its CPU the leader, whose fault the loader resolves: the model decides, memory and
/// the disk supply what is needed (the one disk read of a load is the leader's), and faults arriving
/// meanwhile become followers on the page's wait queue. The loader hands the PTE and the wait queue
/// to the mm — through memory when a frame must be prepared — which installs the PTE first and then
/// wakes every waiter. Bound to a page by the router, and reused once it has handed off.
/// </summary>
// Idle ──ResolveFault (the leader)──▶ LookUp to memory ──▶ Gathering(job), or the model decides at once
// Gathering ──LookedUp──▶ the model decides: Major ──ReadPage to the disk──▶ Reading(job); otherwise the fault ends or is handed off
// Reading ──PageRead──▶ hand-off (Prepare) | ──PageReadFailed──▶ the fault ends (SIGBUS, EFAULT)
// hand-off (InstallPte to the mm, or Prepare to memory, which passes the install on) or the fault's end ──▶ Idle, LoaderIdle to the router
// Idle ──EvictPage──▶ ReplacePte to the mm (an eviction of the page goes after any fault on it), LoaderIdle
// Gathering | Reading: ResolveFault ──▶ one more follower
// Gathering: EvictPage ──▶ ReplacePte to the mm at once (memory, which the loader waits for, may be waiting for the eviction)
// Reading: EvictPage is stashed until Idle
// The job (leader, followers, what the resolution holds so far) is the busy states' data, in one field: a load passes
// through several states, and entering them costs no allocation (their handlers are delegates made once).
public sealed class PageLoaderActor : SimulationActor, IWithStash
{
    private readonly RunContext _run;
    private readonly Waker _waker;
    private readonly SimTime _time;
    private readonly FaultTrace _trace;
    private readonly SimRandom _chaos;
    private readonly Receive _idle, _gathering, _reading;
    private Job? _job;              // Gathering's and Reading's data: the fault being resolved
    private (PageKey Page, long Until)? _copying; // planted bug wake-late-follower: the read just handed off while memory copies it
    private long _lastSequence, _reads, _reported;
    private Dictionary<IActorRef, long>? _routers; // a cluster run's: the last message from each routing point since the last idle report

    /// <param name="peers">The run's directory: a loader is made once it exists.</param>
    /// <param name="chaos">
    /// Draws this loader's injected crashes (faultsim.chaos.loader-crash-rate). Every incarnation of the loader gets the
    /// same instance from its Props, so a restarted loader goes on with the next draw instead of repeating the crash.
    /// </param>
    public PageLoaderActor(ActorDirectory peers, RunContext run, SimRandom chaos) : base(nameof(Idle), run.WaitBound, run.Coverage, run.Traffic)
    {
        UsePeers(peers);
        (_idle, _gathering, _reading) = (Idle, Gathering, Reading);
        (_run, _chaos) = (run, chaos);
        _time = new SimTime(Context.System);
        _trace = new FaultTrace(run.Tracing, _time);
        _waker = new Waker(Self.Path.Name, run, _time, Self, peers.Tlb);
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(ActorDirectory peers, RunContext run, ulong seed)
    {
        var random = new SimRandom(seed); // one stream for the loader and every restart of it
        return ActorFactory.Props(() => new PageLoaderActor(peers, run, random));
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is StopLoader)
        {
            if (_job is null)
                Context.Stop(Self);     // passivated between two faults
            else
                Stash.Stash();          // a fault in flight: stop once it has been handed off
            return true;
        }
        if (message is not Routed routed)
            return base.AroundReceive(receive, message);
        _lastSequence = routed.Sequence;
        if (routed.Router is { } router)
            (_routers ??= [])[router] = routed.Sequence;
        return base.AroundReceive(receive, routed.Message);
    }

    /// <summary>A crash must not strand a waiter: every one is told to fault again, and what the job held is given back.</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        if (_job is { } job)
        {
            GiveBack(job);
            var waiters = job.WaitQueue;
            if (_run.Bugs.LoseWaiterOnRestart && waiters.Length > 0)
                waiters = waiters.RemoveAt(waiters.Length - 1); // planted bug: the last waiter is forgotten, and sleeps forever
            _waker.Crashed(waiters, job.Page);
        }
        base.PreRestart(reason, message);
    }

    protected override bool Receive(object message) => Idle(message);

    /// <summary>An eviction of this page: the mm replaces the PTE if it still maps the frame.</summary>
    private void ReplacePte(EvictPage evict) =>
        Peers.AddressSpace(evict.Page.Asid).Tell(new ReplacePte(evict.EvictionId, evict.Page.Page, evict.Frame, evict.Replacement, evict.Initiator));

    private bool Idle(object message)
    {
        if (message is EvictPage evict)
        {
            ReplacePte(evict); // after any fault on the page
            ReportIdle(evict.Page);
            return true;
        }
        if (message is not ResolveFault leader)
            return false;
        if (_run.LoadStarting is { } starting && !starting(leader))
            return true; // a node-loss test's: the load is lost with its node
        if (WokeLate(leader))
            return true;
        Arrived(leader);
        var job = _job = new Job(leader);
        if (MemoryQuery.For(job.Input) is { } query)
        {
            job.Query = query;
            job.AskedAt = _time.NowNanos;
            Peers.Memory.Tell(new LookUp(leader.Id, leader.Cpu, leader.Page, query, job.Input.FileSize, job.Input.Vma?.Flags ?? VmaFlags.None));
            BecomeWaiting(nameof(Gathering), _gathering, "memory's answer to its lookup (LookedUp)", job);
            return true;
        }
        Decide(job);
        return true;
    }

    private bool Gathering(object message)
    {
        if (message is EvictPage evict)
        {
            // Memory may answer the lookup only once this eviction has freed a frame (the victim maps this very page, put
            // there by a fault decided before this one): stashed, it would wait for the answer, and the answer for it.
            // The fault's install still checks the PTE it expects, so the eviction may go first.
            ReplacePte(evict);
            return true;
        }
        if (message is not LookedUp looked || looked.Id != _job!.Leader.Id)
            return Busy(message);
        var job = _job;
        switch (looked.Answer)
        {
            case CacheAnswer.Facts facts:
                job.Input = job.Input with { Frame = facts.Frame };
                break;
            case CacheAnswer.Hit hit:
                job.Input = job.Input with { CachedFrame = hit.Frame };
                job.Cached = (hit.Frame, hit.Generation);
                job.WaitedForRead = hit.Waited;
                if (hit.Waited) // another page's loader read it: this one waited in memory for that read
                    _trace.Span(job.Leader.Trace, Instruments.Spans.LoaderWait, job.AskedAt);
                break;
            case CacheAnswer.Reserved reserved:
                job.Reservation = (job.Query!, reserved.Frame, reserved.Generation);
                job.Ahead = reserved.Ahead;
                job.Input = job.Input with { FileHole = reserved.Hole };
                break;
            case CacheAnswer.Retry:
                End(job, Resolution.Spurious.Instance, counted: false); // the read it waited for was abandoned
                return true;
            case CacheAnswer.OutOfMemory:
                Kill(job, ProcessFate.KilledByOom, Resolution.Spurious.Instance);
                return true;
        }
        Decide(job);
        return true;
    }

    /// <summary>The model decides; the loader carries the decision out.</summary>
    private void Decide(Job job)
    {
        var resolution = FaultHandler.Resolve(job.Input);
        if (resolution is Resolution.CowBreak && _run.Bugs.CowIgnoreRefcount)
            resolution = Resolution.CowReuse.Instance; // planted bug: a COW write reuses the frame whoever else maps it
        job.Resolution = resolution;
        var vma = job.Input.Vma!;
        _run.Events?.Record(Self.Path.Name, null, new SimEvent.FaultDecided(job.Leader.Id.Value, job.Page, resolution.Kind));
        if (resolution is Resolution.CowBreak or Resolution.CowReuse && !vma.IsShared) // a shared mapping's write-notify is no COW
            _run.Events?.Record(Self.Path.Name, null, new SimEvent.CowDecided(job.Page, job.Input.Pte.Frame, job.Input.Frame.RefCount, resolution is Resolution.CowReuse));
        var effect = job.Effect = FaultEffect.Of(resolution, job.Input);
        switch (effect)
        {
            case FaultEffect.FlushLocal:
                End(job, resolution, counted: true); // the TLB flushes its stale entry and walks again
                break;
            case FaultEffect.Install install:
                Install(job, install.Pte);
                break;
            case FaultEffect.ZeroInPageCache:
                ZeroShared(job);
                break;
            case FaultEffect.AllocateZeroed:
                Prepare(job, Preparation.ZeroFilled.Instance);
                break;
            case FaultEffect.MapCached cached:
                Prepare(job, new Preparation.Cached(cached.Frame, job.Cached.Generation, cached.FromSwapCache ? job.Input.Pte.Slot : null));
                break;
            case FaultEffect.Copy { BreaksCow: false } copy:
                Prepare(job, new Preparation.CopyOf(copy.Source, job.Cached.Generation));
                break;
            case FaultEffect.Copy cow:
                Prepare(job, new Preparation.CopyOf(cow.Source, job.Input.Pte.GenerationTag));
                break;
            case FaultEffect.Read read:
                Read(job, read);
                break;
            case FaultEffect.Kill kill:
                Kill(job, kill.Fate, resolution);
                break;
            case FaultEffect.Fixup:
                End(job, resolution, counted: true, FaultOutcome.Efault);
                break;
            case FaultEffect.Panic panic:
                Peers.Machine.Tell(new KernelPanic(job.Leader.Cpu, job.Leader.Pid, panic.Reason));
                End(job, resolution, counted: true, FaultOutcome.Panic);
                break;
        }
    }

    /// <summary>A shared-memory page never written out: memory zeroes the frame it reserved for the page, no disk read.</summary>
    private void ZeroShared(Job job)
    {
        if (job.Reservation is not { } reservation)
        {
            End(job, job.Resolution!, counted: false); // memory did not reserve the page: look again
            return;
        }
        job.Reservation = null; // handed over to memory
        Prepare(job, new Preparation.Hole(reservation.Frame, reservation.Generation, reservation.Query));
    }

    /// <summary>The one disk read of this load; followers arriving meanwhile wait for it.</summary>
    private void Read(Job job, FaultEffect.Read read)
    {
        if (job.Reservation is null)
        {
            End(job, job.Resolution!, counted: false); // memory did not reserve the read: look again
            return;
        }
        job.Request = new DiskRequestId(++_reads);
        DiskBlock block = read.Source switch
        {
            PageSource.FromFile file => new DiskBlock.OfFile(file.Page),
            PageSource.FromSwap swap => new DiskBlock.OfSwap(swap.Slot),
            _ => throw new InvalidOperationException($"no disk block for {read.Source}"),
        };
        var ahead = job.Ahead.Select(a => (DiskBlock)new DiskBlock.OfFile(a.Page)).ToImmutableArray(); // the window, in the same request
        if (_run.Events is { } events)
        {
            events.Record(Self.Path.Name, Peers.Disk.Path.Name, new SimEvent.DiskReadStarted(job.Leader.Id.Value, block.ToString()));
            foreach (var page in ahead)
                events.Record(Self.Path.Name, Peers.Disk.Path.Name, new SimEvent.DiskReadStarted(job.Leader.Id.Value, page.ToString()));
        }
        job.Block = block;
        job.AskedAt = _time.NowNanos;
        Peers.Disk.Tell(new ReadPage(job.Request, block, ahead));
        BecomeWaiting(nameof(Reading), _reading, "the disk's read (PageRead, PageReadFailed)", job);
    }

    private bool Reading(object message)
    {
        var job = _job!;
        switch (message)
        {
            case PageRead read when read.Id == job.Request:
                _trace.Span(job.Leader.Trace, Instruments.Spans.DiskRead, job.AskedAt, Instruments.Attributes.Block, job.Block!.ToString());
                if (_run.LoaderCrashRate > 0 && _chaos.NextDouble() < _run.LoaderCrashRate)
                    throw new InjectedCrash($"{Self.Path.Name} crashed mid-load of {job.Page} (faultsim.chaos.loader-crash-rate)");
                var reservation = job.Reservation!.Value;
                job.DiskRead = true;
                if (_run.Bugs.WakeLateFollower && ((FaultEffect.Read)job.Effect!).CopyForWrite)
                    _copying = (job.Page, _time.NowNanos + _run.Latencies.PageCopy);
                var ahead = job.Ahead.Zip(read.Ahead, (r, a) => new AheadPage(r.Page, r.Frame, r.Generation, a.Failed, a.Content)).ToImmutableArray();
                job.Reservation = null; // handed over to memory with the content
                job.Ahead = [];
                Prepare(job, new Preparation.ReadDone(reservation.Frame, reservation.Generation, reservation.Query, read.Content,
                    ((FaultEffect.Read)job.Effect!).CopyForWrite, ahead));
                return true;
            case PageReadFailed failed when failed.Id == job.Request:
                _trace.Span(job.Leader.Trace, Instruments.Spans.DiskRead, job.AskedAt, Instruments.Attributes.Block, job.Block!.ToString());
                job.DiskRead = true;
                var failedRead = FaultHandler.FailedRead(job.Input);
                if (FaultEffect.Of(failedRead, job.Input) is FaultEffect.Kill kill)
                    Kill(job, kill.Fate, failedRead);
                else
                    End(job, failedRead, counted: true, FaultOutcome.Efault); // a user copy's fixup
                return true;
            default:
                return Busy(message);
        }
    }

    /// <summary>Hands the install to memory, which prepares the frame and passes the PTE on to the mm.</summary>
    private void Prepare(Job job, Preparation what)
    {
        WakeFollowersEarly(job);
        var leader = job.Leader;
        Peers.Memory.Tell(new Prepare(leader.Id, leader.Page, leader.Pid, what,
            InstallOrder(job, Pte.None), job.Effect!, job.Input.Vma!, job.Input.Code.Access, job.Input.FileSize));
        HandedOff(job);
    }

    /// <summary>Hands the install of a PTE that needs no new frame (the zero page, a COW reuse) straight to the mm.</summary>
    private void Install(Job job, Pte pte)
    {
        WakeFollowersEarly(job);
        MmOf(job.Leader).Tell(InstallOrder(job, pte));
        HandedOff(job);
    }

    /// <summary>Planted bug wake-before-pte: the followers are woken as resolved before the PTE they wait for exists.</summary>
    private void WakeFollowersEarly(Job job)
    {
        if (!_run.Bugs.WakeBeforePte || !job.HasFollowers)
            return;
        _waker.Ended(job.FollowerWaiters, job.Page, Report(job, job.Resolution!), counted: true, FaultOutcome.Retry);
        job.Followers.Clear();
    }

    private InstallPte InstallOrder(Job job, Pte pte)
    {
        var leader = job.Leader;
        return new InstallPte(leader.Id, leader.Cpu, leader.Page.Page, job.Input.Pte, job.Input.Vma, leader.Forks, pte, job.Effect?.GrowsTo,
            job.WaitQueue, Report(job, job.Resolution!), FramePrepared: false, leader.Trace);
    }

    /// <summary>The waiters travel with the install: this page's load is over for the loader.</summary>
    private void HandedOff(Job job)
    {
        job.Reservation = null;
        foreach (var ahead in job.Ahead) // a window reserved for a fault that read nothing after all
            Peers.Memory.Tell(new CancelRead(new MemoryQuery.OfFile(ahead.Page), ahead.Frame));
        job.Ahead = [];
        Idle(job);
    }

    /// <summary>What every busy state does with messages that are not its reply.</summary>
    private bool Busy(object message)
    {
        switch (message)
        {
            case ResolveFault follower:
                Arrived(follower);
                _job!.Followers.Add((follower, _time.NowNanos));
                _run.Events?.Record(Self.Path.Name, null, new SimEvent.FollowerQueued(follower.Id.Value, follower.Page, _job.Leader.Id.Value));
                return true;
            case EvictPage:
                Stash.Stash(); // after the fault on the page: Idle takes it
                return true;
            default:
                return false;
        }
    }

    private IActorRef MmOf(ResolveFault fault) => Peers.AddressSpace(fault.Page.Asid);

    private void Kill(Job job, ProcessFate fate, Resolution resolution)
    {
        MmOf(job.Leader).Tell(new KillProcess(fate, job.Leader.Cpu));
        End(job, resolution, counted: fate != ProcessFate.KilledByOom, FaultOutcome.Killed);
    }

    /// <summary>The fault ends without a new PTE: the leader gets its outcome, followers fault again on their own.</summary>
    private void End(Job job, Resolution resolution, bool counted, FaultOutcome outcome = FaultOutcome.Retry)
    {
        GiveBack(job);
        _waker.Ended(job.WaitQueue, job.Page, Report(job, resolution), counted, outcome);
        Idle(job);
    }

    /// <summary>How the waiters count the fault, as the model counts it (<see cref="Counters.CountedAs"/>).</summary>
    private static FaultReport Report(Job job, Resolution resolution)
    {
        var (kind, major) = Counters.CountedAs(resolution, job.WaitedForRead);
        return new(kind, major, job.DiskRead);
    }

    private void Idle(Job job)
    {
        _job = null;
        Become(nameof(Idle), _idle);
        Stash.UnstashAll();
        ReportIdle(job.Page);
    }

    /// <summary>Nothing in flight: the router may unbind this loader, or (a cluster run) its shard passivate it.</summary>
    private void ReportIdle(PageKey page)
    {
        if (_routers is { Count: > 0 })
        {
            var received = MessagesReceived - _reported;
            foreach (var (router, sequence) in _routers)
            {
                router.Tell(new LoaderIdle(page, sequence, received));
                received = 0;
            }
            _routers.Clear();
        }
        else
            Peers.Loaders.Tell(new LoaderIdle(page, _lastSequence, MessagesReceived - _reported));
        _reported = MessagesReceived;
        if (_run.IdleRequest is { } request)
            Context.Parent.Tell(request);
    }

    /// <summary>
    /// Planted bug wake-late-follower: a fault on the page whose read this loader just handed off, arriving while memory
    /// still copies it for the private write (after the disk completed, before the PTE is installed), is taken for a
    /// follower of that read and woken as resolved at once — though the wait queue it would have joined has left.
    /// </summary>
    private bool WokeLate(ResolveFault fault)
    {
        if (_copying is not { } copying || copying.Page != fault.Page || _time.NowNanos >= copying.Until)
            return false;
        Arrived(fault);
        End(new Job(fault) { WaitedForRead = true }, Resolution.Spurious.Instance, counted: true); // counted as the read it waited for
        return true;
    }

    /// <summary>A fault reached its loader: the fault entry, with the mm's VMA lookup, is over.</summary>
    private void Arrived(ResolveFault fault) => _trace.Span(fault.Trace, Instruments.Spans.VmaLookup, fault.RaisedAt);

    /// <summary>Returns what the job still holds: a read reserved but not done, with its readahead window.</summary>
    private void GiveBack(Job job)
    {
        if (job.Reservation is { } reservation)
            Peers.Memory.Tell(new CancelRead(reservation.Query, reservation.Frame));
        foreach (var ahead in job.Ahead)
            Peers.Memory.Tell(new CancelRead(new MemoryQuery.OfFile(ahead.Page), ahead.Frame));
        job.Reservation = null;
        job.Ahead = [];
    }

    /// <summary>The fault being resolved, those waiting for it, and what its resolution holds so far.</summary>
    private sealed class Job(ResolveFault leader)
    {
        public ResolveFault Leader { get; } = leader;
        public PageKey Page => Leader.Page;
        /// <summary>Faults on the page that came while it was being resolved, with when each began to wait.</summary>
        public List<(ResolveFault Fault, long Since)> Followers => _followers ??= [];

        private List<(ResolveFault Fault, long Since)>? _followers; // most faults have none: made on the first

        public bool HasFollowers => _followers is { Count: > 0 };

        /// <summary>The leader, then the followers in arrival order.</summary>
        public ImmutableArray<Waiter> WaitQueue
        {
            get
            {
                var leader = new Waiter(Leader.Id, Leader.Cpu, Leader.Trace, Leader.Input.Code);
                if (!HasFollowers)
                    return [leader];
                var queue = ImmutableArray.CreateBuilder<Waiter>(1 + _followers!.Count);
                queue.Add(leader);
                AddFollowers(queue);
                return queue.MoveToImmutable();
            }
        }

        public ImmutableArray<Waiter> FollowerWaiters
        {
            get
            {
                if (!HasFollowers)
                    return [];
                var queue = ImmutableArray.CreateBuilder<Waiter>(_followers!.Count);
                AddFollowers(queue);
                return queue.MoveToImmutable();
            }
        }

        private void AddFollowers(ImmutableArray<Waiter>.Builder queue)
        {
            foreach (var (fault, since) in _followers!)
                queue.Add(new Waiter(fault.Id, fault.Cpu, fault.Trace, fault.Input.Code, since));
        }
        public FaultInput Input { get; set; } = leader.Input;
        public Resolution? Resolution { get; set; }
        public FaultEffect? Effect { get; set; }
        public MemoryQuery? Query { get; set; }
        public (FrameNumber Frame, uint Generation) Cached { get; set; }
        public (MemoryQuery Query, FrameNumber Frame, uint Generation)? Reservation { get; set; }
        /// <summary>The readahead pages memory reserved with the read, read in the same request.</summary>
        public ImmutableArray<ReservedAhead> Ahead { get; set; } = [];
        public DiskRequestId Request { get; set; }
        public DiskBlock? Block { get; set; }
        /// <summary>When the leader last asked memory or the disk (the start of its wait or read span).</summary>
        public long AskedAt { get; set; }
        public bool WaitedForRead { get; set; }
        public bool DiskRead { get; set; }

        public override string ToString() =>
            $"fault {Leader.Id.Value} on {Page} with {Followers.Count} follower(s){(Block is { } block ? $", reading {block}" : "")}";
    }
}

/// <summary>A crash injected on purpose (faultsim.chaos), to exercise supervision.</summary>
public sealed class InjectedCrash(string message) : Exception(message);

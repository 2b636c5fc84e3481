using Akka.Actor;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Disk;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Memory;
using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.PageTables;
using Faultsim.Model.Tlbs;

namespace Faultsim.Actors.Paging;

/// <summary>
/// The loader of one page being resolved: the only place where faults on that page meet. The first
/// fault makes its CPU the leader, whose fault the loader resolves (asking memory, the disk and the
/// mm); faults arriving meanwhile are followers on the page's wait queue. The PTE is installed
/// first, then every waiter is woken. Bound to a page by the router and reused once idle.
/// </summary>
// Idle ──ResolveFault──▶ [Gathering] ──▶ [Reading] ──▶ [Preparing] ──▶ [Installing] ──▶ wake all ──▶ Idle
// every busy state: ResolveFault ──▶ the same state with one more follower; anything else is stashed
public sealed class PageLoaderActor : ReceiveActor, IWithStash
{
    private readonly IActorRef _memory, _disk, _machine;
    private Job? _job;
    private long _lastSequence, _reads;

    public PageLoaderActor(IActorRef memory, IActorRef disk, IActorRef machine)
    {
        (_memory, _disk, _machine) = (memory, disk, machine);
        Idle();
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(IActorRef memory, IActorRef disk, IActorRef machine) =>
        Akka.Actor.Props.Create(typeof(PageLoaderActor), memory, disk, machine);

    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is Routed routed)
        {
            _lastSequence = routed.Sequence;
            return base.AroundReceive(receive, routed.Message);
        }
        return base.AroundReceive(receive, message);
    }

    /// <summary>A crash must not strand a waiter: every one is told to fault again, and what the job held is given back.</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        if (_job is { } job)
        {
            GiveBack(job);
            foreach (var waiter in job.Waiters)
                waiter.ReplyTo.Tell(Retry(waiter, job.Page));
        }
        base.PreRestart(reason, message);
    }

    private void Idle() => Receive<ResolveFault>(Start);

    private void Start(ResolveFault leader)
    {
        var job = _job = new Job(leader);
        if (MemoryQuery.For(job.Input) is { } query)
        {
            _memory.Tell(new LookUp(leader.Id, leader.Page, query));
            Busy(job, () => Receive<LookedUp>(l => l.Id == leader.Id, l => Gathered(job, query, l.Answer)));
            return;
        }
        Decide(job);
    }

    private void Gathered(Job job, MemoryQuery query, CacheAnswer answer)
    {
        switch (answer)
        {
            case CacheAnswer.Facts facts:
                job.Input = job.Input with { Frame = facts.Frame };
                break;
            case CacheAnswer.Hit hit:
                job.Input = job.Input with { CachedFrame = hit.Frame };
                job.Cached = (hit.Frame, hit.Generation);
                job.WaitedForRead = hit.Waited;
                break;
            case CacheAnswer.Reserved reserved:
                job.Reservation = (query, reserved.Frame, reserved.Generation);
                break;
            case CacheAnswer.Retry:
                Wake(job, Resolution.Spurious.Instance, installed: null, counted: false); // the read it waited for was abandoned
                return;
            case CacheAnswer.OutOfMemory:
                Kill(job, ProcessFate.KilledByOom);
                return;
        }
        Decide(job);
    }

    /// <summary>The model decides; the loader carries the decision out.</summary>
    private void Decide(Job job)
    {
        var resolution = job.Resolution = FaultHandler.Resolve(job.Input);
        var vma = job.Input.Vma!;
        switch (resolution)
        {
            case Resolution.Spurious:
                Wake(job, resolution, installed: null, counted: true);
                break;
            case Resolution.DemandZero { MapZeroPage: true }:
            case Resolution.StackGrowth { MapZeroPage: true }:
                Install(job, Pte.Mapped(FrameNumber.Zero, InstallRules.ZeroPage(vma)));
                break;
            case Resolution.DemandZero or Resolution.StackGrowth:
                Prepare(job, Preparation.ZeroFilled.Instance);
                break;
            case Resolution.PageCacheHit hit:
                Prepare(job, hit.CopyForWrite
                    ? new Preparation.CopyOf(hit.Frame, job.Cached.Generation)
                    : new Preparation.Cached(hit.Frame, job.Cached.Generation, hit.FromSwapCache ? job.Input.Pte.Slot : null));
                break;
            case Resolution.Major major:
                Read(job, major);
                break;
            case Resolution.CowBreak cow:
                Prepare(job, new Preparation.CopyOf(cow.Old, job.Input.Pte.GenerationTag));
                break;
            case Resolution.CowReuse:
                Install(job, InstallRules.Reused(job.Input.Pte));
                break;
            case Resolution.SigSegv:
                Kill(job, ProcessFate.KilledBySigSegv);
                break;
            case Resolution.SigBus:
                Kill(job, ProcessFate.KilledBySigBus);
                break;
            case Resolution.EfaultFixup:
                Wake(job, resolution, installed: null, counted: true, FaultOutcome.Efault);
                break;
            case Resolution.KernelOops oops:
                _machine.Tell(new KernelPanic($"kernel oops on {job.Leader.Cpu} in pid {job.Leader.Pid.Value}: {oops.Reason}"));
                Wake(job, resolution, installed: null, counted: true, FaultOutcome.Panic);
                break;
        }
    }

    /// <summary>The one disk read of this load; followers arriving meanwhile wait for it.</summary>
    private void Read(Job job, Resolution.Major major)
    {
        if (job.Reservation is not { } reservation)
        {
            Wake(job, major, installed: null, counted: false); // memory did not reserve the read: look again
            return;
        }
        var request = new DiskRequestId(++_reads);
        DiskBlock block = major.Source switch
        {
            PageSource.FromFile file => new DiskBlock.OfFile(file.Page),
            PageSource.FromSwap swap => new DiskBlock.OfSwap(swap.Slot),
            _ => throw new InvalidOperationException(),
        };
        _disk.Tell(new ReadPage(request, block));
        Busy(job, () =>
        {
            Receive<PageRead>(r => r.Id == request, read =>
            {
                job.DiskRead = true;
                job.Reservation = null; // handed over to memory with the content
                Prepare(job, new Preparation.ReadDone(reservation.Frame, reservation.Generation, reservation.Query, read.Content, major.CopyForWrite));
            });
            Receive<PageReadFailed>(r => r.Id == request, _ =>
            {
                job.DiskRead = true;
                _memory.Tell(new CancelRead(reservation.Query, reservation.Frame));
                job.Reservation = null;
                var bus = new Resolution.SigBus(BusReason.IoError);
                if (job.Input.InUserCopy)
                    Wake(job, new Resolution.EfaultFixup(bus), installed: null, counted: true, FaultOutcome.Efault);
                else
                    Kill(job, ProcessFate.KilledBySigBus, bus);
            });
        });
    }

    private void Prepare(Job job, Preparation what)
    {
        var leader = job.Leader;
        _memory.Tell(new Prepare(leader.Id, leader.Page, leader.Pid, what));
        Busy(job, () =>
        {
            Receive<Prepared>(p => p.Id == leader.Id, prepared =>
            {
                job.Frame = prepared.Frame;
                var flags = InstallRules.For(job.Resolution!, job.Input.Vma!, job.Input.Code.Access, prepared.Exclusive);
                Install(job, Pte.Mapped(prepared.Frame, flags, prepared.Generation));
            });
            Receive<PrepareFailed>(p => p.Id == leader.Id, failed =>
            {
                if (failed.Reason == PrepareFailure.OutOfMemory)
                    Kill(job, ProcessFate.KilledByOom);
                else
                    Wake(job, job.Resolution!, installed: null, counted: false); // the frame went away: fault again
            });
        });
    }

    private void Install(Job job, Pte pte)
    {
        var leader = job.Leader;
        var grow = job.Resolution is Resolution.StackGrowth growth ? growth.NewStart : (VirtualAddress?)null;
        leader.AddressSpace.Tell(new InstallPte(leader.Id, leader.Cpu, leader.Page.Page, job.Input.Pte, pte, leader.Sequence, grow));
        Busy(job, () => Receive<PteInstalled>(i => i.Id == leader.Id, installed =>
        {
            if (installed.Installed)
            {
                job.Frame = null; // the PTE holds it now
                if (job.Input.Pte.IsSwapped)
                    _memory.Tell(new SwapEntryDropped(job.Input.Pte.Slot)); // the PTE names the frame now, not the slot
                Wake(job, job.Resolution!, pte, counted: true);
            }
            else
            {
                Wake(job, job.Resolution!, installed: null, counted: false); // the page or its VMA changed: fault again
            }
        }));
    }

    private void Kill(Job job, ProcessFate fate, Resolution? resolution = null)
    {
        job.Leader.AddressSpace.Tell(new KillProcess(fate, job.Leader.Cpu));
        Wake(job, resolution ?? job.Resolution ?? new Resolution.SigBus(BusReason.IoError), installed: null,
            counted: fate != ProcessFate.KilledByOom, FaultOutcome.Killed);
    }

    /// <summary>
    /// Wakes the leader with its outcome and every follower after it. Followers of an installed PTE count the
    /// leader's kind (they waited for it); otherwise they fault again and resolve on their own.
    /// </summary>
    private void Wake(Job job, Resolution resolution, Pte? installed, bool counted, FaultOutcome outcome = FaultOutcome.Retry)
    {
        GiveBack(job);
        var major = resolution is Resolution.Major || job.WaitedForRead;
        var kind = job.WaitedForRead ? ResolutionKind.Major : resolution.Kind;
        var translation = installed is { } pte ? Translation.Of(pte) : (Translation?)null;
        var leader = job.Leader;
        leader.ReplyTo.Tell(new FaultResolved(leader.Id, leader.Page, kind, major, counted, job.DiskRead, outcome, translation));
        foreach (var follower in job.Followers)
        {
            follower.ReplyTo.Tell(installed is null
                ? Retry(follower, job.Page)
                : new FaultResolved(follower.Id, follower.Page, kind, major, Counted: true, DiskRead: false, FaultOutcome.Retry, translation));
        }
        _job = null;
        Become(Idle);
        Stash.UnstashAll();
        Context.Parent.Tell(new LoaderIdle(job.Page, _lastSequence));
    }

    private static FaultResolved Retry(ResolveFault waiter, PageKey page) =>
        new(waiter.Id, page, ResolutionKind.Spurious, Major: false, Counted: false, DiskRead: false, FaultOutcome.Retry, null);

    /// <summary>Returns what the job still holds: a reserved read, a frame prepared but not installed.</summary>
    private void GiveBack(Job job)
    {
        if (job.Reservation is { } reservation)
            _memory.Tell(new CancelRead(reservation.Query, reservation.Frame));
        if (job.Frame is { } frame && frame != FrameNumber.Zero)
            _memory.Tell(new Unprepare(job.Page, frame));
        job.Reservation = null;
        job.Frame = null;
    }

    /// <summary>A busy state: its own replies, plus followers joining and everything else waiting.</summary>
    private void Busy(Job job, Action replies)
    {
        Become(() =>
        {
            replies();
            Receive<ResolveFault>(job.Followers.Add);
            ReceiveAny(_ => Stash.Stash());
        });
    }

    /// <summary>The fault being resolved and those waiting for it.</summary>
    private sealed class Job(ResolveFault leader)
    {
        public ResolveFault Leader { get; } = leader;
        public PageKey Page => Leader.Page;
        public List<ResolveFault> Followers { get; } = [];
        public IEnumerable<ResolveFault> Waiters => Followers.Prepend(Leader);
        public FaultInput Input { get; set; } = leader.Input;
        public Resolution? Resolution { get; set; }
        public (FrameNumber Frame, uint Generation) Cached { get; set; }
        public (MemoryQuery Query, FrameNumber Frame, uint Generation)? Reservation { get; set; }
        public FrameNumber? Frame { get; set; }
        public bool WaitedForRead { get; set; }
        public bool DiskRead { get; set; }
    }
}

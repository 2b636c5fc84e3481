using Akka.Actor;
using System.Collections.Immutable;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Cpu;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Scheduling;
using Faultsim.Actors.Memory;
using Faultsim.Actors.Paging;
using Faultsim.Actors.Telemetry;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Tlbs;
using Faultsim.Model.Workloads;

namespace Faultsim.Actors.Tlb;

/// <summary>
/// One CPU's TLB with its hardware page walker. It performs a quantum of accesses: hits at once,
/// a miss by a walk through the mm, a fault by waiting for the page's loader, then the retry.
/// IPIs are handled between any two of these steps, after the accesses performed so far have
/// reached memory, so a frame is never freed under an access still on its way.
/// </summary>
// Idle ──ExecuteQuantum──▶ runs the quantum's accesses in the handler; at one the TLB cannot complete:
//      Walk to the mm ──▶ AwaitingTranslation(quantum) ──Walked | FaultResolved(retry)──▶ runs on from that access
//      AwaitingTranslation ──FaultResolved(its loader crashed)──▶ AwaitingTranslation ──BackedOff (its timer)──▶ faults again
// a run ends (last access, EFAULT, kill, panic; AwaitingTranslation also on WalkRefused) ──▶ Idle, QuantumExecuted to the CPU
// Idle | AwaitingTranslation: GetPendingFault (a cluster run that lost a node asks what was in flight). Idle: GetTlbStats; AfterAccesses (a cluster run's CPU: its barrier or finish) on to memory, behind the quanta's accesses. Idle | AwaitingTranslation: Invalidate at once (a TLB takes messages only between steps: each is a flush point)
// The quantum in progress is AwaitingTranslation's data, kept in one field: the state is entered on every miss, and
// that costs no allocation (its handler is a delegate made once).
public sealed class TlbActor : SimulationActor
{
    private readonly CpuId _cpu;
    private readonly Model.Tlbs.Tlb _tlb;
    private readonly bool _flushBeforeWalk, _smap;
    private readonly RunContext _run;
    private readonly SimTime _time;
    private readonly FaultTrace _trace;
    private readonly Dictionary<ResolutionKind, LatencyHistogram> _latency = [];
    private readonly List<FrameAccess> _performed = [];
    private readonly Receive _idle, _awaitingTranslation;
    private Quantum? _quantum;      // AwaitingTranslation's data: the quantum in progress
    private long _faults;

    public TlbActor(CpuId cpu, int entries, int ways, bool flushBeforeWalk, RunContext run, bool smap) : base(nameof(Idle), run.WaitBound, run.Coverage, run.Traffic)
    {
        (_idle, _awaitingTranslation) = (Idle, AwaitingTranslation);
        _cpu = cpu;
        (_flushBeforeWalk, _smap) = (flushBeforeWalk, smap);
        _run = run;
        _time = new SimTime(Context.System);
        _trace = new FaultTrace(run.Tracing, _time);
        _tlb = new Model.Tlbs.Tlb(entries, ways);
    }

    /// <param name="flushBeforeWalk">Send the accesses performed so far to memory before every walk: needed when frames
    /// are limited, so that eviction sees every reference in order (LRU, Clock, OPT count them exactly).</param>
    /// <param name="smap">The machine has SMAP on (machine.smap): a kernel access outside a user copy misses any user entry.</param>
    public static Props Props(CpuId cpu, int entries, int ways, bool flushBeforeWalk, RunContext run, bool smap = true) =>
        ActorFactory.Props(() => new TlbActor(cpu, entries, ways, flushBeforeWalk, run, smap));

    protected override bool Receive(object message) => Idle(message);

    private bool Idle(object message)
    {
        switch (message)
        {
            case ExecuteQuantum quantum:
                Run(new Quantum(quantum, Sender, Peers.AddressSpace(quantum.Asid)));
                return true;
            case Invalidate order:
                Apply(order, Sender);
                return true;
            case AfterAccesses after:
                Peers.Memory.Tell(after); // the quantum's accesses went before it
                return true;
            case Placement.GetPendingFault:
                Sender.Tell(new Placement.PendingFault(_cpu, Waiting: false, default, default, 0));
                return true;
            case GetTlbStats:
                Sender.Tell(new TlbStats(_cpu, MessagesReceived,
                    [.. _latency.Select(kv => new FaultLatencies(kv.Key, kv.Value.Buckets, kv.Value.Max))]));
                return true;
            default:
                return false;
        }
    }

    /// <summary>Performs accesses until the quantum ends or one needs the mm.</summary>
    private void Run(Quantum q)
    {
        var order = q.Order;
        while (q.Next < order.Accesses.Length)
        {
            var access = order.Accesses[q.Next];
            var forced = access.Mode.WalksPageTable(); // the kernel's own lookup (follow_page): never the TLB
            var translation = default(Translation);
            var hit = !forced && _tlb.TryLookup(order.Asid, access.Address.Page, out translation);
            if (hit && translation.Allows(access.Kind, access.Mode, _smap))
            {
                if (!q.JustFilled)
                    q.Tally.TlbHits++; // an access completed by its own walk counts that walk's miss only
                Perform(q, access, translation);
                continue;
            }
            if (!q.JustFilled && !forced) // the retry after a fault looked up once, and that walk's miss is counted already
            {
                if (hit) q.Tally.TlbHits++; else q.Tally.TlbMisses++;
            }
            q.JustFilled = false;
            var key = new PageKey(order.Asid, access.Address.Page);
            if (_flushBeforeWalk || PerformedOn(key))
                FlushPerformed(); // a fault may evict by recency, or replace this page's frame: what was done must reach memory first
            q.Fault = new FaultId(FaultName.Id(_cpu.Value, ++_faults));
            q.Invalidated = false;
            q.WalkStarted = _time.NowNanos;
            q.Root = StartFaultTrace(q, access);
            _time.Send(q.Mm, new Walk(q.Fault, _cpu, access.Address, q.ForcedAsRead ? AccessKind.Read : access.Kind, access.Mode, order.StackPointer, ProtectionFault: hit,
                q.Root is { } root ? TraceContext.Of(root) : TraceContext.None, q.WalkStarted + _run.Latencies.TlbHit), _run.Latencies.PageWalk, Self);
            _quantum = q;
            BecomeWaiting(nameof(AwaitingTranslation), _awaitingTranslation, "its walk or its fault (Walked, WalkRefused, FaultResolved)", q);
            return;
        }
        End(q, QuantumEnd.Completed, ProcessFate.Running);
    }

    private bool AwaitingTranslation(object message)
    {
        var q = _quantum!;
        switch (message)
        {
            case Walked walked when walked.Id == q.Fault:
                DropFaultTrace(q); // a TLB miss the page table answered: no fault
                Filled(q, walked.Translation);
                return true;
            case WalkRefused refused when refused.Id == q.Fault:
                DropFaultTrace(q);
                End(q, QuantumEnd.ProcessEnded, refused.Fate);
                return true;
            case FaultResolved resolved when resolved.Id == q.Fault:
                Resolved(q, resolved);
                return true;
            case BackedOff backedOff when backedOff.Fault == q.Fault:
                Retry(q);
                return true;
            case Placement.GetPendingFault:
                Sender.Tell(new Placement.PendingFault(_cpu, Waiting: true, q.Fault, new PageKey(q.Order.Asid, q.Order.Accesses[q.Next].Address.Page),
                    _time.NowNanos - q.WalkStarted));
                return true;
            case Invalidate order:
                // Waiting is a flush point, for lazy orders too: a CPU that waited for its own ack here would deadlock
                // (reclaim for this very fault may need this TLB flushed). Planted bug ack-before-drain: the accesses this
                // quantum made before its walk stay behind, and reach memory only at the quantum's end.
                Apply(order, Sender, drain: !_run.Bugs.AckBeforeDrain);
                if (order.Scope.Covers(q.Order.Asid, q.Order.Accesses[q.Next].Address.Page))
                    q.Invalidated = true; // the reply may carry what this IPI revoked
                return true;
            default:
                return false;
        }
    }

    private void Filled(Quantum q, Translation translation)
    {
        var access = q.Order.Accesses[q.Next];
        if (access.Mode.WalksPageTable())
        {
            if (!q.Invalidated)
                Perform(q, access, translation); // through the page table's entry, which the TLB does not keep
            Resume(q);
            return;
        }
        if (!q.Invalidated)
        {
            _tlb.Fill(q.Order.Asid, q.Order.Accesses[q.Next].Address.Page, translation);
            q.JustFilled = true;
        }
        Resume(q);
    }

    private void Resolved(Quantum q, FaultResolved resolved)
    {
        var latency = _time.NowNanos - q.WalkStarted;
        if (resolved.Counted)
        {
            q.Tally.CountFault(resolved.Kind, resolved.Major);
            (_latency.TryGetValue(resolved.Kind, out var histogram) ? histogram : _latency[resolved.Kind] = new()).Add(latency);
            FaultMetrics.Resolved(resolved.Kind, q.Order.Pid, latency);
        }
        EndFaultTrace(q, resolved, latency);
        if (resolved.DiskRead)
            q.Tally.DiskReads++;
        switch (resolved.Outcome)
        {
            case FaultOutcome.Efault:
                End(q, QuantumEnd.Efault, ProcessFate.Running);
                return;
            case FaultOutcome.Killed:
                End(q, QuantumEnd.ProcessEnded, ProcessFate.Running);
                return;
            case FaultOutcome.Panic:
                End(q, QuantumEnd.Panic, ProcessFate.Running);
                return;
        }
        if (resolved.LoaderCrashed)
        {
            // Not a new attempt: the same fault, retried once the backoff has passed (IPIs are still taken meanwhile).
            _time.Send(Self, new BackedOff(q.Fault), RetryBackoff.After(++q.CrashesInARow, _run.Latencies.CrashRetry), Self);
            BecomeWaiting(nameof(AwaitingTranslation), _awaitingTranslation, "the backoff after its loader crashed (BackedOff)", q);
            return;
        }
        var page = q.Order.Accesses[q.Next].Address.Page;
        if (resolved.Counted)
            FaultHandler.Resolved(ref q.FaultsOnThisAccess, _cpu, q.Order.Accesses[q.Next].Address);
        if (q.Order.Accesses[q.Next].Mode.WalksPageTable())
        {
            // faultin_page done: the lookup is made again (follow_page). Planted bug forced-write-in-page-cache: as a read
            // from now on (FOLL_WRITE dropped once the COW fault is done), so a page discarded meanwhile comes back as
            // the page-cache page, read-only, and the write goes through it into the file.
            q.ForcedAsRead |= resolved.Counted && _run.Bugs.ForcedWriteInPageCache && q.Order.Accesses[q.Next].Mode == AccessMode.Forced;
            _tlb.Invalidate(q.Order.Asid, page); // an entry the fault replaced (a COW break's old frame) goes here too
        }
        else if (resolved.Translation is { } translation && !q.Invalidated)
        {
            q.Tally.TlbMisses++; // the retry's walk, which finds the new PTE
            _tlb.Fill(q.Order.Asid, page, translation);
            q.JustFilled = true;
        }
        else
        {
            _tlb.Invalidate(q.Order.Asid, page); // a spurious fault flushes the stale local entry
        }
        if (resolved.Counted)
            q.CrashesInARow = 0;
        Resume(q);
    }

    /// <summary>The backoff after a loader's crash has passed: the access faults again.</summary>
    private void Retry(Quantum q)
    {
        _tlb.Invalidate(q.Order.Asid, q.Order.Accesses[q.Next].Address.Page);
        Resume(q);
    }

    /// <summary>TLB → itself: the backoff of <see cref="Fault"/> after its loader crashed is over.</summary>
    private sealed record BackedOff(FaultId Fault) : INoSerializationVerificationNeeded;

    private void Resume(Quantum q)
    {
        _quantum = null;
        Become(nameof(Idle), _idle);
        Run(q);
    }

    private void Perform(Quantum q, ScriptAccess access, Translation translation)
    {
        var key = new PageKey(q.Order.Asid, access.Address.Page);
        _performed.Add(new FrameAccess(translation.Frame, translation.Generation, key, access.Address.Offset, access.Value, access.Kind == AccessKind.Write));
        q.Tally.Accesses++;
        q.Next++;
        q.FaultsOnThisAccess = 0;
        q.JustFilled = false;
        q.ForcedAsRead = false;
    }

    private void End(Quantum q, QuantumEnd end, ProcessFate fate)
    {
        FlushPerformed();
        FaultMetrics.Lookups(q.Tally.TlbHits, q.Tally.TlbMisses);
        // The hits took their time too: the quantum answers that much later.
        _time.Send(q.ReplyTo, new QuantumExecuted(q.Order.Id, q.Next, end, fate, QuantumStats.Of(q.Tally)), q.Tally.TlbHits * _run.Latencies.TlbHit, Self);
        _quantum = null;
        Become(nameof(Idle), _idle);
    }

    /// <summary>An IPI: the accesses performed so far go to memory first, then the entries go, then the ack.</summary>
    private void Apply(Invalidate order, IActorRef replyTo, bool drain = true)
    {
        if (drain)
            FlushPerformed();
        order.Scope.ApplyTo(_tlb);
        _run.Events?.Record(Self.Path.Name, replyTo.Path.Name, new SimEvent.IpiAcknowledged(order.Id.Value, _cpu));
        replyTo.Tell(new InvalidateAcked(order.Id, _cpu));
    }

    private void FlushPerformed()
    {
        if (_performed.Count == 0)
            return;
        Peers.Memory.Tell(new Accessed(_cpu, [.. _performed]));
        _performed.Clear();
    }

    /// <summary>Whether an access made this quantum, not yet sent to memory, was to <paramref name="page"/>.</summary>
    private bool PerformedOn(PageKey page)
    {
        foreach (var access in _performed)
        {
            if (access.Page == page)
                return true;
        }
        return false;
    }

    /// <summary>
    /// A miss may be a fault: if its id is sampled, the fault's root span opens now, before the walk, and its id travels
    /// with the walk. Only the mm can tell whether the walk fails, so a root is dropped again when it does not.
    /// </summary>
    private System.Diagnostics.Activity? StartFaultTrace(Quantum q, ScriptAccess access)
    {
        if (_trace.StartRoot(Instruments.Spans.Fault, q.Fault.Value, q.WalkStarted) is not { } root) // where its first step starts
            return null;
        root.SetTag(Instruments.Attributes.Cpu, _cpu.Value);
        root.SetTag(Instruments.Attributes.Pid, q.Order.Pid.Value);
        root.SetTag(Instruments.Attributes.Address, access.Address.ToString());
        root.SetTag(Instruments.Attributes.Access, access.Kind.ToString().ToLowerInvariant());
        return root;
    }

    private void DropFaultTrace(Quantum q)
    {
        FaultTrace.Discard(q.Root);
        q.Root = null;
    }

    /// <summary>The fault's root ends when its TLB is woken: with the failed lookup as its first step, and how it ended.</summary>
    private void EndFaultTrace(Quantum q, FaultResolved resolved, long latency)
    {
        if (q.Root is not { } root)
            return;
        _trace.Span(TraceContext.Of(root), Instruments.Spans.TlbLookup, q.WalkStarted, q.WalkStarted + _run.Latencies.TlbHit);
        root.SetTag(Instruments.Attributes.ErrorCode, resolved.Code.ToString());
        root.SetTag(Instruments.Attributes.Resolution, resolved.Counted ? resolved.Kind.Name() : "retry");
        root.SetTag(Instruments.Attributes.Outcome, resolved.Outcome.ToString().ToLowerInvariant());
        root.SetTag(Instruments.Attributes.Latency, latency);
        _trace.End(root);
        q.Root = null;
    }

    /// <summary>A quantum in progress: where it is, what it counted, and the fault it waits on.</summary>
    private sealed class Quantum(ExecuteQuantum order, IActorRef replyTo, IActorRef mm)
    {
        public ExecuteQuantum Order { get; } = order;
        public IActorRef ReplyTo { get; } = replyTo;
        /// <summary>The mm of the quantum's process, which its walks go to.</summary>
        public IActorRef Mm { get; } = mm;
        public Counters Tally { get; } = new();
        public int Next { get; set; }
        public int FaultsOnThisAccess; // a field: FaultHandler.Resolved counts it in place
        /// <summary>Retries of this access because its loader crashed, since its last resolution: its next backoff doubles.</summary>
        public int CrashesInARow { get; set; }
        public bool JustFilled { get; set; }
        /// <summary>Planted bug forced-write-in-page-cache: this forced write's lookups ask for a read since its COW fault.</summary>
        public bool ForcedAsRead { get; set; }
        public FaultId Fault { get; set; }
        /// <summary>When the walk of the access that missed began, for its fault's latency.</summary>
        public long WalkStarted { get; set; }

        /// <summary>The root span of the fault being resolved, while it is open (sampled faults only).</summary>
        public System.Diagnostics.Activity? Root { get; set; }

        /// <summary>An IPI for the faulting page came while its walk or fault was out: its answer may be stale.</summary>
        public bool Invalidated { get; set; }

        public override string ToString() => $"fault {Fault.Value} of quantum {Order.Id.Value} at access {Next} of {Order.Accesses.Length}";
    }
}

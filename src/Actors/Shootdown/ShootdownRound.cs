using System.Diagnostics;
using Akka.Actor;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Scheduling;
using Faultsim.Actors.Telemetry;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Shootdowns;

namespace Faultsim.Actors.Shootdown;

/// <summary>
/// One shootdown round, a short-lived child of the mm: it sends the invalidation to every target
/// TLB, counts the acknowledgements by CPU, and reports <see cref="ShootdownCompleted"/> to its
/// parent after the last one. IPIs are the invalidations sent to CPUs other than the initiator.
/// A sampled round is a span (under its fault's, or a trace of its own) with one span per IPI, to its ack.
/// </summary>
// AwaitingAcks(pending) ──InvalidateAcked──▶ AwaitingAcks(pending − cpu) ──last──▶ ShootdownCompleted, stop
public sealed class ShootdownRound : SimulationActor
{
    private readonly ShootdownOrder _order;
    private readonly RunContext _run;
    private readonly HashSet<CpuId> _pending = [];
    private readonly SimTime _time;
    private readonly FaultTrace _trace;
    private Activity? _span;
    private long _started;

    /// <remarks>Its wait is not bounded itself: the mm (Flushing) or memory (Reclaiming) waiting for it is.</remarks>
    public ShootdownRound(ShootdownOrder order, ActorDirectory peers, RunContext run) : base(nameof(AwaitingAcks), coverage: run.Coverage, traffic: run.Traffic)
    {
        UsePeers(peers);
        _order = order;
        _run = run;
        _time = new SimTime(Context.System);
        _trace = new FaultTrace(run.Tracing, _time);
    }

    protected override bool Receive(object message) => AwaitingAcks(message);

    private bool AwaitingAcks(object message)
    {
        if (message is not InvalidateAcked ack || ack.Id != _order.Id || !_pending.Contains(ack.Cpu))
            return false;
        if (_span is not null && ack.Cpu != _order.Initiator)
            _trace.Span(TraceContext.Of(_span), Instruments.Spans.Ipi, _started, Instruments.Attributes.Cpu, ack.Cpu.Value);
        _pending.Remove(ack.Cpu);
        if (_pending.Count == 0)
            Complete();
        return true;
    }

    public static Props Props(ShootdownOrder order, ActorDirectory peers, RunContext run) =>
        ActorFactory.Props(() => new ShootdownRound(order, peers, run));

    /// <summary>The IPIs a round sends (the model's rule): one per target other than the initiator, none in lazy mode.</summary>
    public static int IpisOf(ShootdownOrder order) => ShootdownRules.Ipis(order.Mode, order.Targets, order.Initiator);

    protected override void PreStart()
    {
        _started = _time.NowNanos;
        _span = StartSpan();
        var invalidate = new Invalidate(_order.Id, _order.Scope);
        var lazy = _order.Mode == ShootdownMode.Lazy;
        // Planted bug skip-one-invalidation: the first CPU other than the initiator is never told, nor waited for.
        CpuId? skipped = _run.Bugs.SkipOneInvalidation ? _order.Targets.Where(t => t != _order.Initiator).Select(t => (CpuId?)t).FirstOrDefault() : null;
        foreach (var target in _order.Targets.Where(t => t != skipped))
        {
            _pending.Add(target);
            var ipi = target != _order.Initiator && !lazy;
            var tlb = Peers.Tlb(target);
            if (ipi)
                _run.Events?.Record(Self.Path.Name, tlb.Path.Name, new SimEvent.IpiSent(_order.Id.Value, target));
            _time.Send(tlb, invalidate, ipi ? _run.Latencies.Ipi : 0, Self); // an IPI takes its delivery time; a lazy order is queued at once
        }
        if (_pending.Count == 0)
            Complete();
    }

    /// <summary>The round's span: a step of the fault that needed it, or — a munmap's, an eviction's — a sampled trace of its own.</summary>
    private Activity? StartSpan()
    {
        var span = _order.Trace.IsSampled
            ? _trace.StartChild(_order.Trace, Instruments.Spans.Shootdown)
            : _trace.StartRoot(Instruments.Spans.Shootdown, ((long)_order.Scope.Asid.Value << 32) ^ _order.Id.Value ^ unchecked((long)0x9e3779b97f4a7c15));
        if (span is null)
            return null;
        span.SetTag(Instruments.Attributes.Initiator, _order.Initiator.Value);
        span.SetTag(Instruments.Attributes.Asid, _order.Scope.Asid.Value);
        span.SetTag(Instruments.Attributes.Targets, _order.Targets.Length);
        return span;
    }

    private void Complete()
    {
        _trace.End(_span);
        var ipis = IpisOf(_order);
        FaultMetrics.Shootdown(ipis, _time.NowNanos - _started);
        Context.Parent.Tell(new ShootdownCompleted(_order.Id, ipis));
        Context.Stop(Self);
    }
}

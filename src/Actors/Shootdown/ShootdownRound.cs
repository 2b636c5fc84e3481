using Akka.Actor;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Scheduling;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;

namespace Faultsim.Actors.Shootdown;

/// <summary>
/// One shootdown round, a short-lived child of the mm: it sends the invalidation to every target
/// TLB, counts the acknowledgements by CPU, and reports <see cref="ShootdownCompleted"/> to its
/// parent after the last one. IPIs are the invalidations sent to CPUs other than the initiator.
/// </summary>
// AwaitingAcks(pending) ──InvalidateAcked──▶ AwaitingAcks(pending − cpu) ──last──▶ ShootdownCompleted, stop
public sealed class ShootdownRound : ReceiveActor
{
    private readonly ShootdownOrder _order;
    private readonly RunContext _run;
    private readonly HashSet<CpuId> _pending = [];

    public ShootdownRound(ShootdownOrder order, RunContext run)
    {
        _order = order;
        _run = run;
        Receive<InvalidateAcked>(ack => ack.Id == order.Id, ack =>
        {
            _pending.Remove(ack.Cpu);
            if (_pending.Count == 0)
                Complete();
        });
    }

    public static Props Props(ShootdownOrder order, RunContext run) => Akka.Actor.Props.Create(typeof(ShootdownRound), order, run);

    /// <summary>The IPIs a round sends: one per target other than the initiator, none in lazy mode.</summary>
    public static int IpisOf(ShootdownOrder order) =>
        order.Mode == ShootdownMode.Lazy ? 0 : order.Targets.Count(t => t.Cpu != order.Initiator);

    protected override void PreStart()
    {
        var scope = _order.Scope;
        var invalidate = new Invalidate(_order.Id, scope.Asid, scope.From, scope.To, scope.All, _order.Mode == ShootdownMode.Lazy);
        var time = new SimTime(Context.System);
        // Planted bug skip-one-invalidation: the first CPU other than the initiator is never told, nor waited for.
        var skipped = _run.Bugs.SkipOneInvalidation ? _order.Targets.FirstOrDefault(t => t.Cpu != _order.Initiator) : default;
        foreach (var target in _order.Targets.Where(t => t != skipped || skipped.Tlb is null))
        {
            _pending.Add(target.Cpu);
            var remote = target.Cpu != _order.Initiator;
            if (remote && _order.Mode != ShootdownMode.Lazy)
                _run.Events?.Record(Self.Path.Name, target.Tlb.Path.Name, new SimEvent.IpiSent(_order.Id.Value, target.Cpu));
            time.Send(target.Tlb, invalidate, remote ? _run.Latencies.Ipi : 0, Self); // an IPI takes its delivery time
        }
        if (_pending.Count == 0)
            Complete();
    }

    private void Complete()
    {
        Context.Parent.Tell(new ShootdownCompleted(_order.Id, IpisOf(_order)));
        Context.Stop(Self);
    }
}

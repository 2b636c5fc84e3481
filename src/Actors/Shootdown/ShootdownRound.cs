using Akka.Actor;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;

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
    private readonly HashSet<CpuId> _pending = [];

    public ShootdownRound(ShootdownOrder order)
    {
        _order = order;
        Receive<InvalidateAcked>(ack => ack.Id == order.Id, ack =>
        {
            _pending.Remove(ack.Cpu);
            if (_pending.Count == 0)
                Complete();
        });
    }

    public static Props Props(ShootdownOrder order) => Akka.Actor.Props.Create(typeof(ShootdownRound), order);

    /// <summary>The IPIs a round sends: one per target other than the initiator, none in lazy mode.</summary>
    public static int IpisOf(ShootdownOrder order) =>
        order.Mode == ShootdownMode.Lazy ? 0 : order.Targets.Count(t => t.Cpu != order.Initiator);

    protected override void PreStart()
    {
        var scope = _order.Scope;
        var invalidate = new Invalidate(_order.Id, scope.Asid, scope.From, scope.To, scope.All, _order.Mode == ShootdownMode.Lazy);
        foreach (var target in _order.Targets)
        {
            _pending.Add(target.Cpu);
            target.Tlb.Tell(invalidate);
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

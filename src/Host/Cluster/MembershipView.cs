using Akka.Actor;
using Akka.Cluster;

namespace Faultsim.Host.Cluster;

/// <summary>
/// The members of the cluster as an actor's subscription tells them: the snapshot first, then every member and
/// reachability event. An actor that decides on membership reads this rather than <c>Cluster.State</c>, which is updated
/// by a subscriber of its own and may lag behind the event being handled.
/// </summary>
public sealed class MembershipView
{
    private readonly Dictionary<UniqueAddress, Member> _members = [];
    private readonly HashSet<UniqueAddress> _unreachable = [];

    public IEnumerable<Member> Members => _members.Values;

    public bool IsUnreachable(Member member) => _unreachable.Contains(member.UniqueAddress);

    /// <summary>Subscribes <paramref name="subscriber"/> to what this view needs (call from its PreStart).</summary>
    public static void Subscribe(ActorSystem system, IActorRef subscriber) =>
        Akka.Cluster.Cluster.Get(system).Subscribe(subscriber, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    /// <summary>Takes <paramref name="message"/> in if it is a membership message; false for any other.</summary>
    public bool Apply(object message)
    {
        switch (message)
        {
            case ClusterEvent.CurrentClusterState state:
                foreach (var member in state.Members)
                    _members[member.UniqueAddress] = member;
                _unreachable.UnionWith(state.Unreachable.Select(m => m.UniqueAddress));
                return true;
            case ClusterEvent.MemberRemoved removed:
                _members.Remove(removed.Member.UniqueAddress);
                _unreachable.Remove(removed.Member.UniqueAddress);
                return true;
            case ClusterEvent.IMemberEvent changed:
                _members[changed.Member.UniqueAddress] = changed.Member;
                return true;
            case ClusterEvent.UnreachableMember unreachable:
                _unreachable.Add(unreachable.Member.UniqueAddress);
                return true;
            case ClusterEvent.ReachableMember reachable:
                _unreachable.Remove(reachable.Member.UniqueAddress);
                return true;
            default:
                return false;
        }
    }
}

/// <summary>Completes a task when the membership a node is told of satisfies a condition (then stops): a wait for membership events, with no polling.</summary>
public sealed class MembershipWatch : ReceiveActor
{
    public MembershipWatch(Func<MembershipView, bool> done, TaskCompletionSource<MembershipView> completion)
    {
        var view = new MembershipView();
        ReceiveAny(message =>
        {
            if (!view.Apply(message) || !done(view))
                return;
            completion.TrySetResult(view);
            Context.Stop(Self);
        });
    }

    protected override void PreStart() => MembershipView.Subscribe(Context.System, Self);

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);

}

/// <summary>Waits for membership events on a node.</summary>
public static class Membership
{
    /// <summary>Completes when <paramref name="node"/>'s view of the members satisfies <paramref name="done"/>.</summary>
    public static Task<MembershipView> WhenAsync(ClusterNode node, Func<MembershipView, bool> done)
    {
        var completion = new TaskCompletionSource<MembershipView>(TaskCreationOptions.RunContinuationsAsynchronously);
        node.System.ActorOf(Props.Create(() => new MembershipWatch(done, completion)));
        return completion.Task;
    }
}

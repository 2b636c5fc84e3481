using Akka.Actor;

namespace Faultsim.Actors;

/// <summary>
/// How many messages the actors of one run on one node received from actors on other nodes: each simulation actor counts
/// a message whose sender is remote. One per node and run (in its <see cref="Machine.RunContext"/>); a run on one node has none.
/// </summary>
public sealed class CrossNodeTraffic
{
    private long _received;

    /// <summary>Messages received from other nodes so far.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Counts <paramref name="sender"/>'s message if it came from another node.</summary>
    public void Note(IActorRef sender)
    {
        if (sender is IActorRefScope { IsLocal: false })
            Interlocked.Increment(ref _received);
    }
}

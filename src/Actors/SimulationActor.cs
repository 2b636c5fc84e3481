using Akka.Actor;

namespace Faultsim.Actors;

/// <summary>
/// Base of the engine's busy actors. Each protocol state is a method <c>bool State(object message)</c>
/// that returns false for what it does not handle, and <c>Become(State)</c> swaps one delegate: a
/// ReceiveActor would rebuild its handler table on every Become, a cost paid on every fault here.
/// It also counts the messages the actor received, for the engine's messages-per-fault figure.
/// </summary>
public abstract class SimulationActor : ActorBase
{
    /// <summary>Messages this actor has received.</summary>
    protected long MessagesReceived { get; private set; }

    protected override bool AroundReceive(Receive receive, object message)
    {
        MessagesReceived++;
        return base.AroundReceive(receive, message);
    }
}

using Akka.Actor;

namespace Faultsim.Actors;

/// <summary>
/// Props whose actor is made by a plain constructor call: no reflection over the arguments, which a run that makes its
/// actors anew each time (the deterministic engine's slots, <see cref="Machine.ActorSlot"/>) pays for every one.
/// </summary>
public static class ActorFactory
{
    public static Props Props<TActor>(Func<TActor> make) where TActor : ActorBase => Akka.Actor.Props.CreateBy(new Producer<TActor>(make));

    private sealed class Producer<TActor>(Func<TActor> make) : IIndirectActorProducer where TActor : ActorBase
    {
        public Type ActorType => typeof(TActor);

        public ActorBase Produce() => make();

        public void Release(ActorBase actor)
        {
        }
    }
}

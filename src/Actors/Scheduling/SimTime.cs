using System.Diagnostics;
using Akka.Actor;

namespace Faultsim.Actors.Scheduling;

/// <summary>
/// An actor's view of simulated time. Under the deterministic driver it is the virtual clock, and a message
/// with a latency is delivered that many virtual nanoseconds later; in a live run it is the wall clock, and
/// latencies are not waited (messages go at once).
/// </summary>
public sealed class SimTime(ActorSystem system)
{
    private readonly VirtualScheduler? _virtual = system.Scheduler as VirtualScheduler;

    public long NowNanos => _virtual?.NowNanos ?? WallNanos;

    /// <summary>The wall clock a live run's simulated time is, in nanoseconds.</summary>
    public static long WallNanos => (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));

    /// <summary>Sends <paramref name="message"/>, arriving <paramref name="latencyNanos"/> of simulated time later.</summary>
    public void Send(IActorRef to, object message, long latencyNanos, IActorRef sender)
    {
        if (_virtual is null || latencyNanos <= 0)
            to.Tell(message, sender);
        else
            _virtual.TellAfter(latencyNanos, to, message, sender);
    }
}

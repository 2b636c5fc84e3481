using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Faultsim.Actors.Scheduling;
using Faultsim.Actors.Serialization;
using Faultsim.Model.Common;

namespace Faultsim.Host.Bench;

/// <summary>
/// Akka.NET's own request/response ceiling on this machine, for the share of it the actor engine reaches: one pair
/// of actors, one message in flight, each answering the other — the least work a message can carry. Live, the pair
/// runs in the bench's live actor system (the live engine's dispatcher); deterministic, in an actor system with the
/// deterministic engine's settings, run by its driver on the calling thread.
/// </summary>
public sealed class AkkaCeiling : IDisposable
{
    private readonly ActorSystem _system;
    private readonly SimulationDriver? _driver;
    private readonly VirtualScheduler? _clock;
    private readonly Round _round = new();
    private readonly IActorRef _pinger;

    private AkkaCeiling(ActorSystem system, bool deterministic)
    {
        _system = system;
        if (deterministic)
        {
            _driver = SimulationDriver.Of(system);
            _clock = (VirtualScheduler)system.Scheduler;
        }
        var ponger = system.ActorOf(Props.Create(typeof(Ponger)), "ceiling-pong");
        _pinger = system.ActorOf(Props.Create(typeof(Pinger), ponger, _round), "ceiling-ping");
        MessagesPerSecond(1_000); // both actors started, the code compiled
    }

    /// <summary>The ceiling of live runs, in <paramref name="system"/> (the bench's live system); the pair stops when disposed.</summary>
    public static AkkaCeiling Live(ActorSystem system) => new(system, deterministic: false);

    /// <summary>The ceiling of deterministic runs: an actor system of <see cref="DeterministicEngine.Config"/>, driven here; stopped when disposed.</summary>
    public static AkkaCeiling Deterministic()
    {
        var config = ConfigurationFactory.ParseString(DeterministicEngine.Config)
            .WithFallback(ConfigurationFactory.ParseString(MessageSerializer.Config));
        return new AkkaCeiling(ActorSystem.Create("faultsim-ceiling", config), deterministic: true);
    }

    /// <summary>
    /// Brings the pair to its steady speed before it is timed, as the engine's warm-up run does for the engine: the JIT
    /// compiles a method's optimised code only after it has run a while (a pair measured cold ran at half its speed and
    /// reached it only after about half a second), so it runs measurements of <paramref name="roundTrips"/> for at least
    /// <paramref name="atLeast"/>, and at least three.
    /// </summary>
    public void WarmUp(int roundTrips, TimeSpan atLeast)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 3 || clock.Elapsed < atLeast; i++)
            MessagesPerSecond(roundTrips);
    }

    /// <summary>Messages per second over <paramref name="roundTrips"/> requests and their responses (two messages each).</summary>
    public double MessagesPerSecond(int roundTrips)
    {
        var clock = Stopwatch.StartNew();
        if (_driver is null)
        {
            _pinger.Ask<Done>(new Go(roundTrips), TimeSpan.FromMinutes(5)).GetAwaiter().GetResult();
        }
        else
        {
            _round.Finished = false;
            _driver.Reset(new RandomWalkStrategy(new SimRandom(0))); // one mailbox is ever ready: the strategy has no choice
            _pinger.Tell(new Go(roundTrips), ActorRefs.Nobody);
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
            while (!_round.Finished)
            {
                if (DateTime.UtcNow > deadline)
                    throw new InvalidOperationException("the deterministic ceiling's actors did not answer");
                _driver.AwaitSubmission(TimeSpan.FromMilliseconds(20)); // the first run: the actors' start comes from the guardian's thread
                _driver.Run(_clock!, () => _round.Finished, long.MaxValue);
            }
        }
        return 2.0 * roundTrips / clock.Elapsed.TotalSeconds;
    }

    public void Dispose()
    {
        if (_driver is null)
        {
            _system.Stop(_pinger);
            return;
        }
        var terminated = _system.Terminate(); // the system stops its actors on the driver's dispatcher: keep running them
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!terminated.IsCompleted && DateTime.UtcNow < deadline)
        {
            _driver.Reset(new RandomWalkStrategy(new SimRandom(0)));
            _driver.Run(_clock!, () => terminated.IsCompleted, long.MaxValue);
            _driver.AwaitSubmission(TimeSpan.FromMilliseconds(20));
        }
    }

    /// <summary>Whether the current measurement is done; written and read on the driver's thread in deterministic mode.</summary>
    internal sealed class Round
    {
        public volatile bool Finished;
    }

    internal sealed record Go(int RoundTrips);

    internal sealed record Ping
    {
        public static readonly Ping Instance = new();
    }

    internal sealed record Pong
    {
        public static readonly Pong Instance = new();
    }

    internal sealed record Done
    {
        public static readonly Done Instance = new();
    }

    /// <summary>Sends a ping, waits for its pong, and again, until the round trips are done; then answers who asked.</summary>
    internal sealed class Pinger(IActorRef ponger, Round round) : UntypedActor
    {
        private long _left;
        private IActorRef _requester = ActorRefs.Nobody;

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case Go go:
                    (_left, _requester) = (go.RoundTrips, Sender);
                    ponger.Tell(Ping.Instance);
                    break;
                case Pong when --_left > 0:
                    ponger.Tell(Ping.Instance);
                    break;
                case Pong:
                    round.Finished = true;
                    _requester.Tell(Done.Instance);
                    break;
                default:
                    Unhandled(message);
                    break;
            }
        }
    }

    /// <summary>Answers every ping with a pong.</summary>
    internal sealed class Ponger : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            if (message is Ping)
                Sender.Tell(Pong.Instance);
            else
                Unhandled(message);
        }
    }
}

using Akka.Actor;
using Faultsim.Actors.Scheduling;
using Faultsim.Model.Common;

namespace Faultsim.Tests.Actors;

/// <summary>
/// The deterministic dispatcher and virtual clock, on an actor system of their own: the driver runs exactly one message
/// per step, the strategy alone orders ready mailboxes, and timers fire on virtual time, never waiting the wall clock.
/// </summary>
public sealed class SimulationDriverSpec : DeterministicSpec
{
    private readonly SimulationDriver _driver;
    private readonly VirtualScheduler _clock;
    private readonly List<string> _seen = [];
    private readonly List<long> _arrivedAt = [];

    public SimulationDriverSpec()
    {
        _driver = Driver;
        _clock = Clock;
    }

    /// <summary>Creates an actor that notes each message it gets (with its name and the virtual time), and runs it until it has started.</summary>
    private IActorRef Start(string name)
    {
        var actor = Spawn(Props.Create(() => new Recorder(name, _seen, _arrivedAt, _clock)));
        actor.Tell("start");
        RunUntilQuiet();
        Assert.Equal([$"{name}:start"], _seen);
        _seen.Clear();
        _arrivedAt.Clear();
        return actor;
    }

    [Fact]
    public void Each_step_of_the_driver_delivers_exactly_one_message()
    {
        var a = Start("a");
        _driver.Reset(new RandomWalkStrategy(new SimRandom(1)));
        for (var i = 1; i <= 5; i++)
            a.Tell(i.ToString());

        for (var step = 1; step <= 5; step++)
        {
            Assert.Equal(DriverOutcome.StepLimit, _driver.Run(_clock, () => false, maxSteps: step));
            Assert.Equal(step, _seen.Count);
        }
        Assert.Equal(["a:1", "a:2", "a:3", "a:4", "a:5"], _seen);
        Assert.Equal(DriverOutcome.Quiescent, _driver.Run(_clock, () => false, long.MaxValue));
        Assert.Equal(0, _driver.ForeignSubmissions);
    }

    [Fact]
    public void The_seed_alone_decides_the_order_of_messages_to_different_actors()
    {
        var actors = new[] { Start("a"), Start("b"), Start("c") };
        List<string> Order(ulong seed)
        {
            _seen.Clear();
            _driver.Reset(new RandomWalkStrategy(new SimRandom(seed)));
            foreach (var actor in actors)
            {
                actor.Tell("1");
                actor.Tell("2");
            }
            _driver.Run(_clock, () => false, long.MaxValue);
            return [.. _seen];
        }

        var orders = Enumerable.Range(1, 12).Select(seed => string.Join(" ", Order((ulong)seed))).ToList();
        Assert.Equal(orders, Enumerable.Range(1, 12).Select(seed => string.Join(" ", Order((ulong)seed))));
        Assert.True(orders.Distinct().Count() > 3, "12 seeds gave too few different orders: " + string.Join(" | ", orders.Distinct()));
        Assert.All(orders, o => Assert.True(o.IndexOf("a:1", StringComparison.Ordinal) < o.IndexOf("a:2", StringComparison.Ordinal))); // each mailbox stays FIFO
    }

    [Fact]
    public void Timers_fire_on_virtual_time_in_order_of_their_due_time()
    {
        var a = Start("a");
        _driver.Reset(new RandomWalkStrategy(new SimRandom(1)));
        var start = _clock.NowNanos;
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromHours(1), a, "late", ActorRefs.NoSender);
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(5), a, "early", ActorRefs.NoSender);

        Assert.Equal(DriverOutcome.Quiescent, _driver.Run(_clock, () => false, long.MaxValue));

        Assert.Equal(["a:early", "a:late"], _seen);
        // Each arrived when its virtual due time came, and the clock moved an hour without anything waiting for it.
        Assert.Equal([start + 5_000_000L, start + 3_600_000_000_000L], _arrivedAt);
        Assert.Equal(3_600_000_000_000L, _clock.NowNanos - start);
    }

    [Fact]
    public void Jitter_varies_each_delay_within_its_bound_and_the_same_seed_varies_it_the_same_way()
    {
        var a = Start("a");
        List<long> Delays(ulong seed)
        {
            _driver.Reset(new RandomWalkStrategy(new SimRandom(1)));
            _clock.Jitter(new SimRandom(seed), 0.25);
            var due = new List<long>();
            for (var i = 0; i < 20; i++)
            {
                var start = _clock.NowNanos;
                _clock.TellAfter(1_000, a, "tick", ActorRefs.Nobody);
                _driver.Run(_clock, () => false, long.MaxValue);
                due.Add(_clock.NowNanos - start);
            }
            return due;
        }

        var delays = Delays(7);
        Assert.All(delays, d => Assert.InRange(d, 750, 1_250));
        Assert.True(delays.Distinct().Count() > 10);
        Assert.Equal(delays, Delays(7));
        Assert.NotEqual(delays, Delays(8));
    }

    private sealed class Recorder(string name, List<string> seen, List<long> arrivedAt, VirtualScheduler clock) : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            seen.Add($"{name}:{message}");
            arrivedAt.Add(clock.NowNanos);
        }
    }

    [Theory]
    [InlineData(StrategyKind.Random)]
    [InlineData(StrategyKind.Pct)]
    public void A_restarted_strategy_picks_again_what_it_picked(StrategyKind kind)
    {
        var strategy = SchedulingStrategy.Create(kind, seed: 9, pctDepth: 3, pctSteps: 40);
        var ready = new List<int>();
        var first = new List<int>();
        for (var step = 0; step < 60; step++)
        {
            ready.Add(step % 7);
            first.Add(strategy.Pick(ready, step));
        }
        var again = strategy.Restart();
        ready.Clear();
        var second = new List<int>();
        for (var step = 0; step < 60; step++)
        {
            ready.Add(step % 7);
            second.Add(again.Pick(ready, step));
        }

        Assert.Equal(first, second);
        var fresh = SchedulingStrategy.Create(kind, seed: 9, pctDepth: 3, pctSteps: 40);
        ready.Clear();
        for (var step = 0; step < 60; step++)
        {
            ready.Add(step % 7);
            Assert.Equal(first[step], fresh.Pick(ready, step));
        }
    }
}

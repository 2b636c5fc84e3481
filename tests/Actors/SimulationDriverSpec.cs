using Akka.Actor;
using Faultsim.Actors.Scheduling;
using Faultsim.Model.Common;

namespace Faultsim.Tests.Actors;

/// <summary>
/// The deterministic dispatcher and virtual clock, on an actor system of their own: the driver runs exactly one message
/// per step, the strategy alone orders ready mailboxes, and timers fire on virtual time, never waiting the wall clock.
/// </summary>
public sealed class SimulationDriverSpec : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("driver-spec", DeterministicEngine.Config);
    private readonly SimulationDriver _driver;
    private readonly VirtualScheduler _clock;
    private readonly List<string> _seen = [];

    public SimulationDriverSpec()
    {
        _driver = SimulationDriver.Of(_system);
        _clock = (VirtualScheduler)_system.Scheduler;
    }

    /// <summary>Creates an actor that notes each message it gets (with its name), and waits until it has started.</summary>
    private IActorRef Start(string name)
    {
        var actor = _system.ActorOf(Props.Create(() => new Recorder(name, _seen)), name);
        actor.Tell("start");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!_seen.Contains($"{name}:start") && DateTime.UtcNow < deadline)
        {
            _driver.Reset(new RandomWalkStrategy(new SimRandom(0)));
            _driver.AwaitSubmission(TimeSpan.FromMilliseconds(20)); // the guardian creates it on another thread
            _driver.Run(_clock, () => false, long.MaxValue);
        }
        _seen.Clear();
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
        _system.Scheduler.ScheduleTellOnce(TimeSpan.FromHours(1), a, "late", ActorRefs.NoSender);
        _system.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(5), a, "early", ActorRefs.NoSender);
        var wall = System.Diagnostics.Stopwatch.StartNew();

        Assert.Equal(DriverOutcome.Quiescent, _driver.Run(_clock, () => false, long.MaxValue));

        Assert.Equal(["a:early", "a:late"], _seen);
        Assert.Equal(3_600_000_000_000L, _clock.NowNanos - start);
        Assert.True(wall.Elapsed < TimeSpan.FromMinutes(1)); // an hour of virtual time, not of the wall clock
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

    public void Dispose()
    {
        var terminated = _system.Terminate();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!terminated.IsCompleted && DateTime.UtcNow < deadline)
        {
            _driver.Reset(new RandomWalkStrategy(new SimRandom(0)));
            _driver.Run(_clock, () => terminated.IsCompleted, long.MaxValue);
            _driver.AwaitSubmission(TimeSpan.FromMilliseconds(20));
        }
    }

    private sealed class Recorder(string name, List<string> seen) : UntypedActor
    {
        protected override void OnReceive(object message) => seen.Add($"{name}:{message}");
    }
}

using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Faultsim.Actors;
using Faultsim.Actors.Scheduling;
using Faultsim.Actors.Serialization;
using Faultsim.Model.Common;

namespace Faultsim.Tests.Actors;

/// <summary>
/// A TestKit whose actor system is the deterministic engine's: the actors under test run on the simulation's
/// dispatcher, one message per step and only when the spec drives them, and their timers and latencies are on
/// the virtual clock. Probes keep the TestKit's calling-thread dispatcher, so a message reaches a probe the
/// moment it is sent. A spec tells, then reads each collaborator's probe with <see cref="Next{T}"/>, which first
/// runs every actor until nothing is left to do (quiescence): what a probe holds then is all it will ever get
/// for what was told so far. So <see cref="AssertSilent"/> proves "nothing happens" exactly, not by waiting.
/// </summary>
public abstract class DeterministicSpec : TestKit
{
    /// <summary>A protocol test is short: a spec that takes more steps than this to go quiet is looping.</summary>
    private const long MaxSteps = 1_000_000;

    private readonly ulong _seed;
    private readonly List<Exception> _failures = [];
    private Thread? _driverThread;

    /// <param name="seed">The seed of the order in which ready mailboxes run (a spec's assertions hold for any).</param>
    protected DeterministicSpec(ulong seed = 1) : base(SystemConfig)
    {
        _seed = seed;
        Driver = SimulationDriver.Of(Sys);
        Clock = (VirtualScheduler)Sys.Scheduler;
    }

    private static Config SystemConfig => ConfigurationFactory.ParseString(DeterministicEngine.Config)
        .WithFallback(ConfigurationFactory.ParseString(MessageSerializer.Config));

    protected SimulationDriver Driver { get; }

    /// <summary>The virtual clock: what a latency or a timer of the actors under test waits.</summary>
    protected VirtualScheduler Clock { get; }

    /// <summary>
    /// Creates an actor under test as a child of <paramref name="parent"/> (a probe that hears what it tells its parent),
    /// or of the TestKit's own actor. Unlike <c>Sys.ActorOf</c>, whose top-level actor the guardian starts later on a
    /// thread of its own, a child of a calling-thread actor is created at once, on the spec's thread. An actor
    /// under test that throws is stopped, and the spec fails at its next step.
    /// </summary>
    protected IActorRef Spawn(Props props, TestProbe? parent = null)
    {
        var failed = new OneForOneStrategy(cause =>
        {
            _failures.Add(cause);
            return Directive.Stop;
        });
        return parent is null ? ChildActorOf(props, failed) : parent.ChildActorOf(props, failed);
    }

    /// <summary>Gives an actor under test the run's directory, as the machine does before a run starts: its peers are the spec's probes.</summary>
    protected void Connect(IActorRef actor, ActorDirectory peers)
    {
        var machine = CreateTestProbe();
        actor.Tell(new Connect(peers), machine.Ref);
        Next<Connected>(machine);
    }

    /// <summary>
    /// Runs every ready mailbox, then every due timer (moving the virtual clock), until none is left. Fails if the
    /// actors never go quiet, or if any of their work came from a thread other than the spec's (not deterministic).
    /// </summary>
    protected void RunUntilQuiet()
    {
        BecomeDriver();
        var outcome = Driver.Run(Clock, () => false, Driver.Steps + MaxSteps);
        Assert.True(outcome == DriverOutcome.Quiescent, $"the actors did not go quiet within {MaxSteps:N0} steps");
        Assert.True(Driver.ForeignSubmissions == 0, $"{Driver.ForeignSubmissions} mailbox run(s) came from another thread: the spec is not deterministic");
        if (_failures.Count > 0)
            Assert.Fail($"an actor under test threw: {_failures[0]}");
    }

    /// <summary>
    /// Runs the actors until they are quiet and returns what the first actor under test threw (it is stopped); fails if
    /// none threw. For the specs of protocol errors: a message no state takes, a wait past its bound.
    /// </summary>
    protected Exception Failure()
    {
        BecomeDriver();
        var outcome = Driver.Run(Clock, () => false, Driver.Steps + MaxSteps);
        Assert.True(outcome == DriverOutcome.Quiescent, $"the actors did not go quiet within {MaxSteps:N0} steps");
        Assert.True(_failures.Count > 0, "no actor under test threw");
        var failure = _failures[0];
        _failures.Clear();
        return failure;
    }

    /// <summary>The protocol error an actor under test threw, by quiescence: its message names the actor, the state and what went wrong.</summary>
    protected string ProtocolError() => Assert.IsType<Faultsim.Actors.ProtocolException>(Failure()).Message;

    /// <summary>Runs the actors until <paramref name="condition"/> holds between two steps; fails if they go quiet first.</summary>
    protected void RunUntil(Func<bool> condition, string what)
    {
        BecomeDriver();
        Driver.Run(Clock, condition, Driver.Steps + MaxSteps);
        Assert.True(condition(), $"the actors went quiet before {what}");
    }

    /// <summary>
    /// The state the actor behind <paramref name="actor"/> (a simulation actor of this spec's system) is in. Akka keeps
    /// the instance to its cell: a spec may look, never touch.
    /// </summary>
    protected static string StateOf(IActorRef actor)
    {
        var cell = (ActorCell)((ActorRefWithCell)actor).Underlying;
        var instance = typeof(ActorCell).GetProperty("Actor", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!.GetValue(cell);
        return instance is Faultsim.Actors.SimulationActor started ? started.State : "(not created yet)";
    }

    /// <summary>The next message <paramref name="probe"/> holds once the actors are quiet; it must be a <typeparamref name="T"/>.</summary>
    protected T Next<T>(TestProbe probe)
    {
        RunUntilQuiet();
        Assert.True(probe.HasMessages, $"{probe.Ref.Path.Name} got nothing by quiescence; a {typeof(T).Name} was expected");
        return probe.ExpectMsg<T>(TimeSpan.Zero); // it is there already: no waiting
    }

    /// <summary>Every message <paramref name="probe"/> holds once the actors are quiet, in arrival order.</summary>
    protected List<object> Drain(TestProbe probe)
    {
        RunUntilQuiet();
        var messages = new List<object>();
        while (probe.HasMessages)
            messages.Add(probe.ReceiveOne(TimeSpan.Zero)!);
        return messages;
    }

    /// <summary>Runs the actors until they are quiet, then asserts that none of <paramref name="probes"/> got a message.</summary>
    protected void AssertSilent(params TestProbe[] probes)
    {
        RunUntilQuiet();
        foreach (var probe in probes)
        {
            if (probe.HasMessages)
                Assert.Fail($"{probe.Ref.Path.Name} should have got nothing, but got {probe.ReceiveOne(TimeSpan.Zero)}");
        }
    }

    /// <summary>
    /// Stamps every message <paramref name="probe"/> gets from now on with the virtual time it arrived at
    /// (the message is still queued on the probe as well).
    /// </summary>
    protected List<(long At, object Message)> Arrivals(TestProbe probe)
    {
        var arrivals = new List<(long, object)>();
        probe.SetAutoPilot(new DelegateAutoPilot((_, message) =>
        {
            arrivals.Add((Clock.NowNanos, message));
            return AutoPilot.KeepRunning;
        }));
        return arrivals;
    }

    /// <summary>
    /// The thread that runs the spec drives the actors. xunit may construct the spec on one thread and run it on
    /// another, so the driver is claimed where the spec first drives (work told before that is not foreign).
    /// </summary>
    private void BecomeDriver()
    {
        if (_driverThread == Thread.CurrentThread)
            return;
        Driver.Reset(new RandomWalkStrategy(new SimRandom(_seed)));
        _driverThread = Thread.CurrentThread;
    }

    /// <summary>The system stops its actors on the simulation's dispatcher too: drive them until it has terminated.</summary>
    protected override void AfterAll()
    {
        var terminated = Sys.Terminate();
        var bound = DateTime.UtcNow + TimeSpan.FromSeconds(30); // a bound on tear-down only, never an assertion
        while (!terminated.IsCompleted && DateTime.UtcNow < bound)
        {
            Driver.Reset(new RandomWalkStrategy(new SimRandom(0)));
            Driver.Run(Clock, () => terminated.IsCompleted, long.MaxValue);
            Driver.AwaitSubmission(TimeSpan.FromMilliseconds(20));
        }
        base.AfterAll();
    }
}

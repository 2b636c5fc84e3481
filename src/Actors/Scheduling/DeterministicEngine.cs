using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Monitoring;
using Faultsim.Actors.Serialization;
using Faultsim.Model.Common;
using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;

namespace Faultsim.Actors.Scheduling;

/// <summary>
/// Runs the actor engine deterministically: an actor system whose simulation dispatcher and scheduler are
/// the driver's, so that a run is a function of (workload, settings, seed, strategy). One system serves
/// run after run (creating a system per seed would cost far more than the runs), and so does one machine:
/// its actors are slots (<see cref="ActorSlot"/>) kept from run to run, each given a new actor instance by
/// the run's first message to it, so a run creates no actors but those its protocol makes (loaders beyond
/// the earlier runs', shootdown rounds). After a run the engine drains the machine: the actors of the run
/// that are not slots are stopped and what is still queued is dropped, so nothing of a run reaches the next.
/// A run takes the same steps in the same order as on a machine made for it (<c>reuseMachine: false</c>,
/// which tests compare against). One thing the kept machine cannot give: a run stopped with messages still
/// queued (at a violation or a limit) goes on, on a machine of its own, while the stop reaches each actor, and
/// what its actors do meanwhile is in its log; such a run (rare in explore: a failing seed) is run again on a
/// machine made for it, and so is a run whose events go to a sink as they happen.
/// </summary>
public sealed class DeterministicEngine : IDisposable
{
    /// <summary>
    /// The system's settings: the simulation runs on the default dispatcher, handed to the driver one message per
    /// mailbox run (throughput 1 with a deadline, which in Akka 1.5 makes it exactly one); guardians and loggers stay
    /// on the internal dispatcher; timers run on the virtual clock.
    /// </summary>
    public const string Config = """
        akka {
          loglevel = WARNING
          stdout-loglevel = WARNING
          log-dead-letters = off
          log-dead-letters-during-shutdown = off
          loggers-dispatcher = "akka.actor.internal-dispatcher"
          scheduler.implementation = "Faultsim.Actors.Scheduling.VirtualScheduler, Faultsim.Actors"
          actor.default-dispatcher {
            executor = "Faultsim.Actors.Scheduling.DeterministicExecutorConfigurator, Faultsim.Actors"
            throughput = 1
            throughput-deadline-time = 1ms
          }
        }
        """;

    private const ulong JitterStream = 0x6a09e667f3bcc908; // the delays' random stream is not the strategy's

    private readonly ActorSystem _system;
    private readonly SimulationDriver _driver;
    private readonly VirtualScheduler _clock;
    private readonly RunSlot _slot = new();
    private readonly IActorRef _host;
    private readonly SlotLease? _slots;
    private readonly string? _extraConfig;
    private DeterministicEngine? _own;
    private (ImmutableArray<string> Names, long Generation)? _prepared; // the slots the last Prepare made sure of

    /// <param name="extraConfig">HOCON over <see cref="Config"/> (tests add serialize-messages = on).</param>
    /// <param name="reuseMachine">Keep the machine's actors from run to run (the default); false: a new machine and actors for every run.</param>
    public DeterministicEngine(string? extraConfig = null, bool reuseMachine = true)
    {
        (_slots, _extraConfig) = (reuseMachine ? new SlotLease() : null, extraConfig);
        var config = ConfigurationFactory.ParseString(extraConfig ?? "")
            .WithFallback(ConfigurationFactory.ParseString(Config))
            .WithFallback(ConfigurationFactory.ParseString(MessageSerializer.Config));
        _system = ActorSystem.Create("faultsim-deterministic", config);
        _driver = SimulationDriver.Of(_system);
        _clock = (VirtualScheduler)_system.Scheduler;
        _host = _system.ActorOf(Props.Create(typeof(RunHost), _slot, _slots), "host");
        AwaitHost();
    }

    /// <summary>
    /// Runs <paramref name="workload"/> under <paramref name="strategy"/>, logging its events; it stops at the first
    /// invariant violation. The result is null only when the run stopped before it finished (a violation, a stall, the
    /// step limit).
    /// </summary>
    /// <param name="events">How the run keeps its event log (the default: the monitor, the hash and a bounded tail);
    /// <see cref="EventLogOptions.Off"/> runs without it (benchmarks): the same run, unchecked.</param>
    /// <param name="maxSteps">The most mailbox runs the run may take before it is stopped (<see cref="DriverOutcome.StepLimit"/>); null: no limit.</param>
    /// <param name="stopped">Called when the run has stopped, while its machine and actors still live (benchmarks measure the memory they hold).</param>
    /// <param name="interrupt">Cancelled when the user interrupts: the run stops before its next message (<see cref="DriverOutcome.Interrupted"/>).</param>
    public DeterministicRun Run(Workload workload, EngineSettings settings, ulong seed, SchedulingStrategy strategy,
        EventLogOptions? events = null, long? maxSteps = null, Action? stopped = null, CancellationToken interrupt = default)
    {
        WorkloadValidator.Validate(workload); // once per workload: explore's seeds of a scenario share one
        events ??= EventLogOptions.Default;
        if (_slots is null)
            return RunOnce(workload, settings, seed, strategy, events, maxSteps, stopped, interrupt, out _);
        if (events.Sink is not null)
            return Own.Run(workload, settings, seed, strategy, events, maxSteps, stopped, interrupt); // the sink sees each event as it happens
        var again = strategy.Restart();
        var run = RunOnce(workload, settings, seed, strategy, events, maxSteps, stopped, interrupt, out var leftWork);
        // A run stopped with work queued (at a violation, a limit): on a machine of its own, that work would still run
        // while the stop went down the actors, adding events to its log. That is the run's log, so it runs there again.
        return leftWork ? Own.Run(workload, settings, seed, again, events, maxSteps, stopped, interrupt) : run;
    }

    /// <summary>The engine of a machine made for each run, for the runs the kept machine cannot give exactly; made when first needed.</summary>
    private DeterministicEngine Own => _own ??= new DeterministicEngine(_extraConfig, reuseMachine: false);

    /// <param name="leftWork">Whether the kept machine's run stopped with work queued (not for a run that was interrupted).</param>
    private DeterministicRun RunOnce(Workload workload, EngineSettings settings, ulong seed, SchedulingStrategy strategy,
        EventLogOptions events, long? maxSteps, Action? stopped, CancellationToken interrupt, out bool leftWork)
    {
        settings = settings with { TimedDisk = true }; // on the virtual clock the disk's service time costs nothing real
        var log = new EventLog(() => _clock.NowNanos - _slot.StartedAt, events.Tail, events.Sink);
        if (_slots is not null)
        {
            var names = MachineParts.SlotNamesOf(workload);
            if (_prepared is not { } prepared || prepared.Generation != _slots.Generation || !prepared.Names.AsSpan().SequenceEqual(names.AsSpan()))
            {
                _host.Tell(new RunHost.Prepare(names));
                _driver.Run(_clock, () => false, long.MaxValue); // the slots this run needs and earlier ones did not are made
                _prepared = (names, _slots.Generation);
            } // else the last run's slots are this one's: no slot was made or stopped since
        }
        _slot.Begin(_clock.NowNanos);
        _driver.Reset(strategy);
        _clock.Jitter(new SimRandom(seed ^ JitterStream), settings.Run.Latencies.Jitter);
        var run = settings.Run with { Events = events.Enabled ? log : null, Tracing = settings.Run.Tracing.ForRun(seed, _clock.NowNanos) };
        _host.Tell(new RunHost.Start(workload, ActorEngine.WithFuture(workload, settings, seed) with { Run = run }, seed));
        var outcome = _driver.Run(_clock, () => _slot.Reply is not null || log.Violation is not null || interrupt.IsCancellationRequested,
            maxSteps ?? long.MaxValue);
        if (outcome == DriverOutcome.Stopped && _slot.Reply is null && log.Violation is null)
            outcome = DriverOutcome.Interrupted;
        if (outcome == DriverOutcome.Quiescent && _slot.Reply is null)
            log.Monitor.AtEnd(log.Count);  // it stopped making progress: a waiter sleeps, or the workload deadlocked
        var (reply, steps, mailboxes) = (_slot.Reply, _driver.Steps, _driver.Mailboxes);
        leftWork = _slots is not null && outcome != DriverOutcome.Interrupted && _driver.HasWork;
        if (!leftWork)
            stopped?.Invoke();
        if (_slots is not null)
        {
            _slots.BeginDrain();
            _driver.Run(_clock, () => false, long.MaxValue); // what the run left queued (and its timers) is dropped
            _slots.Draining = false;
        }
        else
        {
            _host.Tell(RunHost.Stop.Instance);
            _driver.Run(_clock, () => false, long.MaxValue); // the machine and its actors wind down
        }
        if (_driver.ForeignSubmissions > 0)
            throw new InvalidOperationException($"{_driver.ForeignSubmissions} mailbox run(s) came from other threads: the run was not deterministic");
        var result = reply is RunFinished finished ? log.Complete(finished.Result) : null;
        return new DeterministicRun(seed, result, reply, outcome, log, steps) { Mailboxes = mailboxes };
    }

    /// <summary>Set-up: the host actor is created by the guardian on another thread; wait (really) until it runs here.</summary>
    private void AwaitHost()
    {
        _driver.Reset(new RandomWalkStrategy(new Model.Common.SimRandom(0)));
        _host.Tell(RunHost.Ping.Instance);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!_slot.Ready && DateTime.UtcNow < deadline)
        {
            _driver.AwaitSubmission(TimeSpan.FromMilliseconds(50));
            _driver.Run(_clock, () => _slot.Ready, long.MaxValue);
        }
        if (!_slot.Ready)
            throw new InvalidOperationException("the deterministic host actor did not start");
    }

    /// <summary>The system stops its actors on our dispatcher too, so the driver keeps running them until it has terminated.</summary>
    public void Dispose()
    {
        _own?.Dispose();
        var terminated = _system.Terminate();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!terminated.IsCompleted && DateTime.UtcNow < deadline)
        {
            _driver.Reset(new RandomWalkStrategy(new Model.Common.SimRandom(0)));
            _driver.Run(_clock, () => terminated.IsCompleted, long.MaxValue);
            _driver.AwaitSubmission(TimeSpan.FromMilliseconds(20));
        }
    }
}

/// <summary>
/// One deterministic run: its seed, the result if it finished, what the machine answered, why the driver
/// stopped, the event log (with the monitor's verdict), and the mailbox runs it took until it stopped.
/// </summary>
public sealed record DeterministicRun(ulong Seed, RunResult? Result, object? Reply, DriverOutcome Outcome, EventLog Log, long Steps)
{
    public Faultsim.Model.Checking.Violation? Violation => Log.Violation;

    /// <summary>The mailboxes (actors) that ran during the run: PCT's n.</summary>
    public int Mailboxes { get; init; }
}

/// <summary>Where the host actor leaves what the current run's machine answered; read by the driver on the same thread.</summary>
internal sealed class RunSlot
{
    public bool Ready { get; set; }
    public object? Reply { get; set; }
    public long StartedAt { get; private set; }

    public void Begin(long now)
    {
        Reply = null;
        StartedAt = now;
    }
}

/// <summary>
/// The long-lived parent of the machine, so that every simulation actor is created on the driver's thread: of the one
/// machine slot kept from run to run, or (without <paramref name="slots"/>) of a new machine for each run.
/// </summary>
internal sealed class RunHost : ReceiveActor
{
    private IActorRef? _machine;
    private long _runs;

    public RunHost(RunSlot slot, SlotLease? slots)
    {
        Receive<Ping>(_ => slot.Ready = true);
        Receive<Prepare>(prepare =>
        {
            if (_machine is null || _machine.IsNobody() || Context.Child("machine").IsNobody())
                _machine = Context.ActorOf(ActorSlot.Props(slots!), "machine");
            _machine.Tell(new EnsureSlots(prepare.Names));
        });
        Receive<Start>(start =>
        {
            if (slots is null)
            {
                _machine = Context.ActorOf(MachineActor.Props(start.Workload, start.Settings, start.Seed), $"machine-{++_runs}");
                _machine.Tell(StartRun.Instance);
            }
            else
                _machine!.Tell(new Reincarnate(MachineActor.Props(start.Workload, start.Settings, start.Seed, slots), StartRun.Instance));
        });
        Receive<Stop>(_ =>
        {
            if (_machine is not null)
                Context.Stop(_machine);
            _machine = null;
        });
        Receive<IRunControl>(reply => slot.Reply = reply); // what the machine answered
    }

    public sealed record Ping : IRunControl
    {
        public static readonly Ping Instance = new();
    }

    public sealed record Start(Workload Workload, EngineSettings Settings, ulong Seed) : IRunControl;

    /// <summary>Engine → host, before a run on the kept machine: the machine's slots the run needs.</summary>
    public sealed record Prepare(ImmutableArray<string> Names) : IRunControl;

    public sealed record Stop : IRunControl
    {
        public static readonly Stop Instance = new();
    }
}

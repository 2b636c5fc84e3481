using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Dispatch;

namespace Faultsim.Actors.Scheduling;

/// <summary>
/// The one scheduler of a deterministic actor system: every mailbox run of the simulation's dispatcher
/// comes here, and one thread — the driver's — runs them one at a time, in the order the strategy picks.
/// When no mailbox has work it fires the virtual clock's next timer. A run is then a function of
/// (config, seed): the same picks, the same messages, the same event log.
/// </summary>
/// <remarks>
/// Mailboxes are told apart by when they first asked to run (mailboxes are not public and their identity
/// hash differs from run to run), and the dispatcher runs one message per mailbox run (throughput 1 with a
/// deadline), so the strategy decides message by message. Work submitted from another thread is counted:
/// after set-up, any is a determinism bug.
/// </remarks>
public sealed class SimulationDriver
{
    private static readonly ConditionalWeakTable<ActorSystem, SimulationDriver> Drivers = new();
    private readonly object _gate = new();
    private readonly List<IRunnable> _ready = [];
    private readonly List<int> _readyIds = [];
    // Each mailbox's number, in the order they first asked to run. Weakly held: a stopped actor's mailbox (a shootdown
    // round's, an idle loader's) leaves the table with it, so a run of any length holds only its live actors' numbers.
    private readonly ConditionalWeakTable<IRunnable, StrongBox<int>> _ids = new();
    // The first mailboxes of a run (a machine's dozen actors, which ask again and again) are held here instead, for a
    // lookup that costs a reference's hash: at most RecentCapacity of them, until the next reset; the rest go to _ids.
    private const int RecentCapacity = 64;
    private readonly Dictionary<IRunnable, int> _recent = new(ReferenceEqualityComparer.Instance);
    private int _nextId;
    private SchedulingStrategy _strategy = new RandomWalkStrategy(new Model.Common.SimRandom(0));
    private Thread? _owner;
    private int _awaiting; // threads in AwaitSubmission, the only ones a submission need wake

    private SimulationDriver()
    {
    }

    public static SimulationDriver Of(ActorSystem system) => Drivers.GetValue(system, _ => new SimulationDriver());

    /// <summary>Mailbox runs executed since the last <see cref="Reset"/>.</summary>
    public long Steps { get; private set; }

    /// <summary>The distinct mailboxes that asked to run since the last reset.</summary>
    public int Mailboxes
    {
        get { lock (_gate) return _nextId; }
    }

    /// <summary>Whether some mailbox has work queued: a stopped run whose actors would still run.</summary>
    public bool HasWork
    {
        get { lock (_gate) return _ready.Count > 0; }
    }

    /// <summary>Work submitted by a thread other than the driver's since the last reset.</summary>
    public long ForeignSubmissions { get; private set; }

    /// <summary>Called by the dispatcher's executor, on whatever thread sends a message.</summary>
    public void Submit(IRunnable run)
    {
        lock (_gate)
        {
            _ready.Add(run);
            _readyIds.Add(IdOf(run));
            if (_owner is not null && Thread.CurrentThread != _owner)
                ForeignSubmissions++;
            if (_awaiting > 0)
                Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The number of <paramref name="run"/>'s mailbox: the next one when it asks to run for the first time. Under the gate.</summary>
    private int IdOf(IRunnable run)
    {
        if (_recent.TryGetValue(run, out var recent))
            return recent;
        if (_ids.TryGetValue(run, out var id))
            return id.Value;
        if (_recent.Count < RecentCapacity)
            _recent[run] = _nextId;
        else
            _ids.Add(run, new StrongBox<int>(_nextId));
        return _nextId++;
    }

    /// <summary>Makes the calling thread the driver and starts a new run under <paramref name="strategy"/>.</summary>
    public void Reset(SchedulingStrategy strategy)
    {
        lock (_gate)
        {
            _owner = Thread.CurrentThread;
            _strategy = strategy;
            _ids.Clear();
            _recent.Clear();
            _nextId = 0;
            for (var i = 0; i < _ready.Count; i++)
                _readyIds[i] = IdOf(_ready[i]);
            Steps = 0;
            ForeignSubmissions = 0;
        }
    }

    /// <summary>
    /// Runs mailboxes, then timers, until <paramref name="stop"/> holds, nothing is left to do (quiescence), or
    /// <paramref name="maxSteps"/> runs were made.
    /// </summary>
    public DriverOutcome Run(VirtualScheduler clock, Func<bool> stop, long maxSteps)
    {
        while (true)
        {
            if (stop())
                return DriverOutcome.Stopped;
            if (Steps >= maxSteps)
                return DriverOutcome.StepLimit;
            IRunnable? next = null;
            lock (_gate)
            {
                if (_ready.Count > 0)
                {
                    var pick = _strategy.Pick(_readyIds, Steps);
                    next = _ready[pick];
                    _ready.RemoveAt(pick);
                    _readyIds.RemoveAt(pick);
                }
            }
            if (next is not null)
            {
                Steps++;
                next.Run();
                continue;
            }
            if (!clock.FireNext())
                return DriverOutcome.Quiescent;
        }
    }

    /// <summary>Set-up only: waits (really) for work another thread is about to submit, such as a new actor's start.</summary>
    public bool AwaitSubmission(TimeSpan timeout)
    {
        lock (_gate)
        {
            if (_ready.Count > 0)
                return true;
            _awaiting++;
            try
            {
                return Monitor.Wait(_gate, timeout);
            }
            finally
            {
                _awaiting--;
            }
        }
    }
}

/// <summary>Why the driver stopped.</summary>
public enum DriverOutcome
{
    /// <summary>The caller's condition holds (the run finished, or a violation was found).</summary>
    Stopped,
    /// <summary>No mailbox has work and no timer is pending.</summary>
    Quiescent,
    /// <summary>The step bound was reached.</summary>
    StepLimit,
    /// <summary>The user interrupted the run (Ctrl-C) before it finished: the engine stopped delivering at once.</summary>
    Interrupted,
}

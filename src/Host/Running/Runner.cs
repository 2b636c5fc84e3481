using Faultsim.Actors.Machine;
using Faultsim.Actors.Monitoring;
using Faultsim.Actors.Scheduling;
using Faultsim.Host.Configuration;
using Faultsim.Model.Checking;
using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Running;

/// <summary>
/// One run as a command sees it: the result (null if the run stopped before the end), the event log with
/// the monitor's verdict (null for the reference machine, which keeps none), and the steps it took.
/// </summary>
public sealed record RunReport(RunResult? Result, EventLog? Log, Violation? Violation, long Steps, ulong Seed)
{
    /// <summary>
    /// Why the simulation itself failed, if it did ("the simulation failed: …"): an actor threw, got a message no state of
    /// it takes, or waited past its bound. A fault of faultsim (or of a planted bug), not of the workload: exit code 70.
    /// </summary>
    public string? Crash { get; init; }

    /// <summary>The limit the run reached before it finished; null if it reached none.</summary>
    public StepLimit? StoppedAt { get; init; }

    /// <summary>The actors (mailboxes) that ran in a deterministic run; 0 for the others.</summary>
    public int Mailboxes { get; init; }

    /// <summary>
    /// Whether the user interrupted the run (Ctrl-C, SIGINT): what it did so far is partial — the reference machine's
    /// figures so far, or the actor engine's events tallied (<see cref="EventLog.Tally"/>) — and the exit code is 130.
    /// </summary>
    public bool Interrupted { get; init; }

    /// <summary>Whether the run broke an invariant (invariant 8: it stopped making progress) or crashed: the report shows its log, the exit code is 1 (70 for a crash).</summary>
    public bool Failed => Violation is not null || Crash is not null;

    /// <summary>Whether the run ended before its workload did (a violation, a crash, a limit, an interruption): the report shows its log.</summary>
    public bool Unfinished => Failed || StoppedAt is not null || Interrupted;
}

/// <summary>Runs a workload on the engine and in the mode the settings say, with every check that applies.</summary>
public static class Runner
{
    public static readonly TimeSpan LiveTimeout = TimeSpan.FromMinutes(30);

    /// <param name="engine">The deterministic engine to reuse (explore runs many seeds on one); one is made if null.</param>
    /// <param name="sink">Receives every event of the log as it happens (an event file, a test's whole log).</param>
    /// <param name="interrupt">Cancelled when the user interrupts (Ctrl-C): the run stops at once and reports what it did (<see cref="RunReport.Interrupted"/>).</param>
    public static RunReport Run(SimSettings settings, Workload workload, ulong seed, DeterministicEngine? engine = null, IEventSink? sink = null,
        CancellationToken interrupt = default)
    {
        if (settings.Engine == ReferenceMachine.EngineName)
        {
            var result = ReferenceMachine.Run(workload, seed, interrupt: interrupt);
            return new RunReport(result, null, null, 0, seed) { Interrupted = result.Interrupted };
        }
        var events = new EventLogOptions(Tail: settings.EventTail, Sink: sink);
        var report = settings.Deterministic ? Deterministic(settings, workload, seed, engine, events, interrupt) : Live(settings, workload, seed, events, interrupt);
        return report.Interrupted ? report : Check(settings, workload, report);
    }

    private static RunReport Deterministic(SimSettings settings, Workload workload, ulong seed, DeterministicEngine? engine, EventLogOptions events,
        CancellationToken interrupt)
    {
        var owned = engine is null ? new DeterministicEngine(reuseMachine: false) : null; // one run: nothing to keep its machine for
        try
        {
            var limit = settings.StepLimit;
            var used = engine ?? owned!;
            var run = used.Run(workload, settings.Actors, seed, settings.Explore.StrategyFor(seed), events, limit?.Steps, interrupt: interrupt);
            if (run.Outcome == DriverOutcome.Interrupted)
                return new RunReport(null, run.Log, null, run.Steps, seed) { Interrupted = true };
            if (run.Reply is RunFailed failed && !EngineDeadlocked(workload, seed, run, failed))
                throw new WorkloadException(failed.Line, failed.Message);
            var unfinished = run.Result is null && run.Violation is null;
            var stoppedAt = unfinished && run.Outcome == DriverOutcome.StepLimit ? limit : null;
            var crash = unfinished && stoppedAt is null && run.Reply is RunCrashed crashed ? CrashOf(crashed.Message) : null;
            if (unfinished && stoppedAt is null && crash is null)
                run.Log.Monitor.Stopped(run.Log.Count); // nothing left to deliver, and the machine never answered
            if (stoppedAt is not null)
                CheckProgress(settings, workload, seed, used, run);
            return new RunReport(run.Result, run.Log, run.Violation, run.Steps, seed) { Crash = crash, StoppedAt = stoppedAt, Mailboxes = run.Mailboxes };
        }
        finally
        {
            owned?.Dispose();
        }
    }

    /// <summary>
    /// Whether a workload the actor engine found deadlocked (every CPU waiting at a barrier or for a process) runs to its
    /// end on the reference machine: then the workload is sound and the engine lost a step (invariant 8), else the
    /// workload itself deadlocks — bad input.
    /// </summary>
    private static bool EngineDeadlocked(Workload workload, ulong seed, DeterministicRun run, RunFailed failed)
    {
        try
        {
            ReferenceMachine.Run(workload, seed);
        }
        catch (WorkloadException)
        {
            return false;
        }
        run.Log.Monitor.Deadlocked(run.Log.Count, failed.Message);
        return true;
    }

    /// <summary>
    /// Invariant 8 for a run cut off at its step limit: whether it made progress (a fault resolved, an access applied, a
    /// system call) in its last <see cref="StepLimit.ProgressBound"/> messages. The run is a function of its seed, so the
    /// same run stopped that many messages earlier is its prefix: if its last progress is the whole run's, none came after.
    /// </summary>
    private static void CheckProgress(SimSettings settings, Workload workload, ulong seed, DeterministicEngine engine, DeterministicRun run)
    {
        var bound = StepLimit.ProgressBound(workload);
        if (run.Steps <= bound || run.Log.Monitor.LastProgress == 0)
        {
            if (run.Steps > bound)
                run.Log.Monitor.NoProgress(run.Log.Count, run.Steps, StepLimit.ProgressBasis(workload));
            return;
        }
        var prefix = engine.Run(workload, settings.Actors, seed, settings.Explore.StrategyFor(seed), new EventLogOptions(Tail: 1), run.Steps - bound);
        if (prefix.Log.Monitor.LastProgress == run.Log.Monitor.LastProgress)
            run.Log.Monitor.NoProgress(run.Log.Count, bound, StepLimit.ProgressBasis(workload));
    }

    /// <summary>The words of a crash, the same on both engines and in every command.</summary>
    public static string CrashOf(string message) => $"the simulation failed: {message}";

    private static RunReport Live(SimSettings settings, Workload workload, ulong seed, EventLogOptions events, CancellationToken interrupt)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var log = new EventLog(() => (long)clock.Elapsed.TotalNanoseconds, events.Tail, events.Sink);
        try
        {
            var result = log.Complete(ActorEngine.Run(workload, settings.Actors with { Run = settings.Actors.Run with { Events = log } }, seed, LiveTimeout,
                interrupt: interrupt));
            return new RunReport(result, log, log.Violation, 0, seed);
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            return new RunReport(null, log, null, 0, seed) { Interrupted = true }; // the machine is stopped: its actors record no more
        }
    }

    /// <summary>The checks a workload switched on: counts against the reference machine, files no run may change.</summary>
    private static RunReport Check(SimSettings settings, Workload workload, RunReport report)
    {
        if (report.Result is not { } result || report.Log is not { } log)
            return report;
        if (settings.Checks.CountsMatchReference)
            log.Monitor.CheckCounts(result, ReferenceMachine.Run(workload, report.Seed), log.Count,
                settings.Actors.Run.LoaderCrashRate > 0 ? RunComparison.UnaffectedByLoaderCrashes : null);
        if (!settings.Checks.UnchangedFiles.IsEmpty && result.Memory is { } memory)
            log.Monitor.CheckFilesUnchanged(memory, settings.Checks.UnchangedFiles, log.Count);
        return report with { Violation = log.Violation };
    }
}

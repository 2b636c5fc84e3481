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
    /// <summary>Why a run that did not finish stopped, when no invariant explains it.</summary>
    public string? Stall { get; init; }

    /// <summary>Whether the run broke an invariant or did not finish (a run without a result always has one of the two).</summary>
    public bool Failed => Violation is not null || Stall is not null;
}

/// <summary>Runs a workload on the engine and in the mode the settings say, with every check that applies.</summary>
public static class Runner
{
    public static readonly TimeSpan LiveTimeout = TimeSpan.FromMinutes(30);

    /// <param name="engine">The deterministic engine to reuse (explore runs many seeds on one); one is made if null.</param>
    public static RunReport Run(SimSettings settings, Workload workload, ulong seed, DeterministicEngine? engine = null)
    {
        if (settings.Engine == ReferenceMachine.EngineName)
            return new RunReport(ReferenceMachine.Run(workload, seed), null, null, 0, seed);
        var report = settings.Deterministic ? Deterministic(settings, workload, seed, engine) : Live(settings, workload, seed);
        return Check(settings, workload, report);
    }

    private static RunReport Deterministic(SimSettings settings, Workload workload, ulong seed, DeterministicEngine? engine)
    {
        var owned = engine is null ? new DeterministicEngine() { MaxSteps = settings.Explore.MaxSteps } : null;
        try
        {
            var run = (engine ?? owned!).Run(workload, settings.Actors, seed, settings.Explore.StrategyFor(seed));
            if (run.Reply is RunFailed failed)
                throw new WorkloadException(failed.Line, failed.Message);
            var stall = run.Result is null && run.Violation is null
                ? run.Outcome == DriverOutcome.StepLimit
                    ? $"the run did not finish within {settings.Explore.MaxSteps:N0} messages (faultsim.explore.max-steps)"
                    : run.Reply is RunCrashed crashed ? $"the simulation failed: {crashed.Message}"
                    : "the run stopped making progress"
                : null;
            return new RunReport(run.Result, run.Log, run.Violation, run.Steps, seed) { Stall = stall };
        }
        finally
        {
            owned?.Dispose();
        }
    }

    private static RunReport Live(SimSettings settings, Workload workload, ulong seed)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var log = new EventLog(() => (long)clock.Elapsed.TotalNanoseconds);
        var result = log.Complete(ActorEngine.Run(workload, settings.Actors with { Run = settings.Actors.Run with { Events = log } }, seed, LiveTimeout));
        return new RunReport(result, log, log.Violation, 0, seed);
    }

    /// <summary>The checks a workload switched on: counts against the reference machine, files no run may change.</summary>
    private static RunReport Check(SimSettings settings, Workload workload, RunReport report)
    {
        if (report.Result is not { } result || report.Log is not { } log)
            return report;
        if (settings.Checks.CountsMatchReference)
            log.Monitor.CheckCounts(result, ReferenceMachine.Run(workload, report.Seed), log.Count);
        if (!settings.Checks.UnchangedFiles.IsEmpty && result.Memory is { } memory)
            log.Monitor.CheckFilesUnchanged(memory, settings.Checks.UnchangedFiles, log.Count);
        return report with { Violation = log.Violation };
    }
}

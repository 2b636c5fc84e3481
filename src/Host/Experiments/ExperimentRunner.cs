using System.Collections.Immutable;
using System.Text.Json;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Scheduling;
using Faultsim.Host.Configuration;
using Faultsim.Host.Output;
using Faultsim.Host.Running;
using Faultsim.Host.Traces;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Experiments;

/// <summary>One run of an experiment: its point and seed, how it ended (ok, violation, crash, limit), its figures and its JSON.</summary>
public sealed record ExperimentRun(ExperimentPoint Point, ulong Seed, string Status, ImmutableArray<string?> Values, string Json);

/// <summary>How far an experiment has got, read by the progress bar while the runs go on.</summary>
public sealed class ExperimentProgress(int total)
{
    private int _done;

    public int Total { get; } = total;

    public int Done => Volatile.Read(ref _done);

    /// <summary>The point of the run finished last.</summary>
    public ExperimentPoint? Last { get; private set; }

    internal void Finished(ExperimentPoint point)
    {
        Last = point;
        Interlocked.Increment(ref _done);
    }
}

/// <summary>
/// Runs every point of an experiment on every seed, in parallel over the cores, each run deterministic by its seed; the
/// runs come back in point and seed order whatever order they finished in, so the outputs are the same every time.
/// </summary>
public static class ExperimentRunner
{
    /// <summary>Each point's settings loaded once before any run: a bad value of a varied key is an error at its line now, not mid-sweep.</summary>
    public static void Check(ExperimentSpec spec)
    {
        foreach (var trace in spec.Traces.Where(t => !File.Exists(t)))
        {
            throw new ConfigException(spec.Origin, spec.TracesLine, $"experiment.traces names {trace}, which does not exist; a path starts from the experiment file's " +
                $"directory (a shipped experiment's is {ExperimentCatalog.Directory} under the working directory: run it from the repository's root)");
        }
        foreach (var point in spec.Points)
        {
            var settings = Settings(spec, point, spec.Seeds[0]);
            if (settings.Engine == MachineActor.EngineName && !settings.Deterministic)
                throw new ConfigException(spec.Origin, null, $"runs the actor engine live ({point}); an experiment's runs are deterministic: set faultsim.mode = deterministic");
        }
    }

    /// <summary>
    /// Runs the experiment. <paramref name="finished"/> is called (on the run's thread) as each run ends, for its JSON to be
    /// written. Ctrl-C (<paramref name="interrupt"/>) stops the runs under way — they are dropped — and starts no more: the
    /// result holds the runs that finished, the others null.
    /// </summary>
    public static ImmutableArray<ExperimentRun?> Run(ExperimentSpec spec, int jobs, ExperimentProgress progress, Action<ExperimentRun>? finished = null,
        CancellationToken interrupt = default)
    {
        var points = spec.Points;
        var work = points.SelectMany(p => spec.Seeds.Select(s => (Point: p, Seed: s))).ToArray();
        var runs = new ExperimentRun?[work.Length];
        using var engines = new ThreadLocal<DeterministicEngine>(() => new DeterministicEngine(), trackAllValues: true);
        try
        {
            Parallel.For(0, work.Length, new ParallelOptions { MaxDegreeOfParallelism = jobs }, i =>
            {
                if (interrupt.IsCancellationRequested)
                    return;
                var (point, seed) = work[i];
                var settings = Settings(spec, point, seed);
                var report = RunOne(spec, settings, seed, engines.Value!, interrupt);
                if (report.Interrupted)
                    return;
                var json = RunJson.Serialize(report, settings.Engine);
                using var document = JsonDocument.Parse(json);
                var run = new ExperimentRun(point, seed, StatusOf(report), [.. spec.Figures.Select(f => Figures.Of(document.RootElement, f))], json);
                finished?.Invoke(run);
                runs[i] = run;
                progress.Finished(point);
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw(); // bad input met mid-run: its one line
            throw;
        }
        finally
        {
            foreach (var engine in engines.Values)
                engine.Dispose();
        }
        return [.. runs];
    }

    private static RunReport RunOne(ExperimentSpec spec, SimSettings settings, ulong seed, DeterministicEngine engine, CancellationToken interrupt)
    {
        try
        {
            if (spec.Traces.IsEmpty)
                return Runner.Run(settings, settings.Workload, seed, engine, interrupt: interrupt);
            using var traces = TraceSet.Open(spec.Traces)!;
            var workload = traces.Workload(TraceSet.ModeOf(spec.TraceMode), settings.Workload.Machine);
            return traces.Run(null, () => Runner.Run(settings, workload, seed, engine, interrupt: interrupt));
        }
        catch (WorkloadException e) when (e.Line is not null)
        {
            throw settings.ErrorIn(e);
        }
    }

    private static string StatusOf(RunReport report) =>
        report.Crash is not null ? "crash" : report.Violation is not null ? "violation" : report.StoppedAt is not null ? "limit" : "ok";

    /// <summary>
    /// The settings of a run: the experiment file over the default, the quick keys, the point's values and the seed over it.
    /// An error in a value the experiment gives points at the experiment's line that gives it.
    /// </summary>
    private static SimSettings Settings(ExperimentSpec spec, ExperimentPoint point, ulong seed)
    {
        List<string> overrides = [.. spec.Sets.Select(s => $"{s.Key}={s.Values[0]}"), .. point.Overrides, $"seed={seed}"];
        try
        {
            return SimSettings.From(ConfigLoader.LoadText([(spec.Origin, spec.Text)], overrides));
        }
        catch (ConfigException e) when (e.Origin.StartsWith("--set ", StringComparison.Ordinal))
        {
            var assignment = e.Origin["--set ".Length..];
            var key = assignment[..assignment.IndexOf('=')];
            var parameter = spec.Parameters.FirstOrDefault(p => p.Key == key);
            var line = parameter?.Line ?? spec.Sets.FirstOrDefault(p => p.Key == key)?.Line;
            var message = e.Message[(e.Origin.Length + 2)..];
            throw new ConfigException(spec.Origin, line, $"{(parameter is null ? "quick.set" : "vary")} {assignment}: {message}");
        }
    }
}

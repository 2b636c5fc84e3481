using System.Collections.Immutable;

namespace Faultsim.Host.Experiments;

/// <summary>A config key an experiment varies (written as for --set, faultsim. left out), its values in order, and the line that varies it.</summary>
public sealed record Parameter(string Key, ImmutableArray<string> Values, int? Line);

/// <summary>One point of an experiment: a value for each varied key, in the order the keys are varied.</summary>
public sealed record ExperimentPoint(int Index, ImmutableArray<(string Key, string Value)> Values)
{
    public string ValueOf(string key) => Values.First(v => v.Key == key).Value;

    /// <summary>The point as --set arguments.</summary>
    public IEnumerable<string> Overrides => Values.Select(v => $"{v.Key}={v.Value}");

    public override string ToString() => string.Join(", ", Values.Select(v => $"{v.Key}={v.Value}"));
}

/// <summary>
/// A sweep (config/experiments/NAME.conf): a config — the file's own faultsim section, over the embedded default — its
/// keys varied over points (crossed or zipped), each point run on every seed, and the run figures to report and plot.
/// </summary>
/// <param name="Name">The experiment's name: its file's, without .conf.</param>
/// <param name="Origin">Where the file came from, for messages.</param>
/// <param name="Text">The file's text: each run's config.</param>
/// <param name="Sets">Keys set for every run (the quick section's, under --quick), each with its one value.</param>
/// <param name="Traces">Program traces each run replays instead of the config's workload (resolved paths), and how they run.</param>
/// <param name="X">The varied key plots put on the x axis; <paramref name="Series"/> the one whose values are the series (null: one series).</param>
public sealed record ExperimentSpec(
    string Name, string Origin, string Text, string Description, ImmutableArray<Parameter> Parameters, bool Zip,
    ImmutableArray<ulong> Seeds, ImmutableArray<string> Figures, ImmutableArray<Parameter> Sets, ImmutableArray<string> Traces, string? TraceMode,
    string X, string? Series)
{
    /// <summary>Whether plots ring the points where a falling series rises (plot.mark-rises: Belady's anomaly).</summary>
    public bool MarkRises { get; init; }

    /// <summary>The line of experiment.traces, for messages.</summary>
    public int? TracesLine { get; init; }

    /// <summary>Every point: the parameters crossed (the last varying fastest) or zipped (the i-th value of each).</summary>
    public ImmutableArray<ExperimentPoint> Points
    {
        get
        {
            if (Zip)
                return [.. Enumerable.Range(0, Parameters[0].Values.Length).Select(i => new ExperimentPoint(i, [.. Parameters.Select(p => (p.Key, p.Values[i]))]))];
            IEnumerable<ImmutableArray<(string, string)>> points = [[]];
            foreach (var parameter in Parameters)
                points = points.SelectMany(point => parameter.Values.Select(value => point.Add((parameter.Key, value))));
            return [.. points.Select((values, i) => new ExperimentPoint(i, values))];
        }
    }
}

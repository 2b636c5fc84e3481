using System.Globalization;
using Faultsim.Host.Configuration;
using Faultsim.Host.Running;
using Faultsim.Host.Shrinking;

namespace Faultsim.Host.Cli;

/// <summary>explore's reproducers: the failing seed shrunk (or not, --no-shrink) and written as a scenario file to --out.</summary>
internal static class Reproducers
{
    public const string DefaultDirectory = "faultsim-failures";

    /// <summary>Checks before the run that <paramref name="directory"/> is one (made if missing) that can be written.</summary>
    public static void Check(string directory)
    {
        if (File.Exists(directory))
            throw new ConfigException("--out", null, $"{directory} is a file; give a directory for the reproducers (it is made if missing)");
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, ".faultsim-write-check");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException("--out", null, $"cannot write to {directory}: {e.Message.ReplaceLineEndings(" ")} Give a directory you may write.");
        }
    }

    /// <summary>Shrinks the failing run (unless <paramref name="shrink"/> is false), writes it to <paramref name="directory"/> and prints how to replay it.</summary>
    /// <param name="text">The scenario-file text the seed ran, before <paramref name="overrides"/>.</param>
    public static void Write(TextWriter output, string directory, bool shrink, string title, string text, IReadOnlyList<string> overrides,
        RunReport failure, int maxRuns)
    {
        var seed = failure.Seed;
        var name = Shrinker.FailureOf(failure)!;
        var baked = text + "\n" + string.Concat(overrides.Select(o => ConfigLoader.OverrideText(o).Text + "\n"))
                    + $"faultsim.seed = {seed.ToString(CultureInfo.InvariantCulture)}\n";
        var shape = ScenarioShape.Parse(baked).WithKnob("faultsim.scenario.description",
            ScenarioShape.Render($"reproducer of {name} at seed {seed}, from {title}"));
        var path = Path.Combine(directory, $"{name}-seed-{seed.ToString(CultureInfo.InvariantCulture)}.conf");
        var verdict = (failure.Violation?.ToString() ?? failure.Crash ?? "").ReplaceLineEndings(" ");
        List<string> header = [$"The failing run of seed {seed} of faultsim explore ({title}).", $"It fails: {verdict}"];
        ShrinkResult? result = null;
        if (shrink)
        {
            result = Shrinker.Shrink(shape, seed, failure, maxRuns);
            if (result is null)
                output.WriteLine($"not shrunk: the run written as a scenario file does not fail as {name} (the file is the run as explore ran it)");
        }
        if (result is not null)
        {
            shape = result.Shape;
            var sizes = $"{result.Before.Lines} → {result.After.Lines} script lines, {result.Before.Cpus} → {result.After.Cpus} CPUs, " +
                        $"{result.Before.Events.ToString("N0", CultureInfo.InvariantCulture)} → {result.After.Events.ToString("N0", CultureInfo.InvariantCulture)} events";
            var steps = result.Report.StoppedAt is { } at ? $", stopped at {at.Steps.ToString("N0", CultureInfo.InvariantCulture)} messages (max-steps)" : "";
            header[0] = $"The failing run of seed {seed} of faultsim explore ({title}), shrunk: {sizes}{steps}.";
            header[1] = $"It fails: {(result.Report.Violation?.ToString() ?? result.Report.Crash ?? "").ReplaceLineEndings(" ")}";
            output.WriteLine($"shrunk in {result.Runs.ToString("N0", CultureInfo.InvariantCulture)} runs (at most {maxRuns.ToString("N0", CultureInfo.InvariantCulture)}: faultsim.explore.shrink.max-runs): {sizes}{steps}");
        }
        header.Add($"Run it: faultsim replay --scenario THIS-FILE --seed {seed}");
        Output.WholeFile.WriteAllText("--out", path, shape.Write(header)); // whole or not at all, as every output
        var what = result is null ? "the failing run" + (shrink ? "" : ", not shrunk (--no-shrink),") : "the shrunk reproducer";
        output.WriteLine($"wrote {what} to {path} ({name}): faultsim replay --scenario {Output.ExploreReport.Quoted(path)} --seed {seed}");
    }
}

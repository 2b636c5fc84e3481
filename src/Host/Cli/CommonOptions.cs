using System.CommandLine;
using Faultsim.Host.Output;

namespace Faultsim.Host.Cli;

/// <summary>Options that several commands share, so each is spelled and described once.</summary>
internal static class CommonOptions
{
    public static Option<string?> Config() => new("--config", "-c")
    {
        Description = "HOCON config file layered over the embedded default (config/faultsim.conf)",
        HelpName = "FILE",
    };

    public static Option<ulong?> Seed() => new("--seed")
    {
        Description = "Seed of every random choice of the run (same as --set seed=N)",
        HelpName = "N",
        CustomParser = r => ulong.TryParse(r.Tokens.Single().Value, out var n) ? n : Fail<ulong?>(r, "a whole number from 0"),
    };

    /// <summary>An integer option whose bad values get a plain message rather than the parser's type names.</summary>
    public static Option<int?> Count(string name, string description, int min, int max) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = r => int.TryParse(r.Tokens.Single().Value, out var n) && n >= min && n <= max
            ? n
            : Fail<int?>(r, $"a whole number from {min} to {max}"),
    };

    private static T? Fail<T>(System.CommandLine.Parsing.ArgumentResult result, string expected)
    {
        result.AddError($"{((System.CommandLine.Parsing.OptionResult)result.Parent!).Option.Name} takes {expected}, not '{result.Tokens.Single().Value}'");
        return default;
    }

    /// <summary>--max-steps: a step limit, or <paramref name="none"/>; forwarded as --set <paramref name="key"/>=VALUE.</summary>
    public static Option<string?> MaxSteps(string key, string none, string description) => new("--max-steps")
    {
        Description = $"{description} (same as --set {key}=N|{none})",
        HelpName = $"N|{none}",
        CustomParser = r =>
        {
            var text = r.Tokens.Single().Value;
            return text.Equals(none, StringComparison.OrdinalIgnoreCase)
                || (long.TryParse(text.Replace("_", "", StringComparison.Ordinal), System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1000)
                ? text
                : Fail<string?>(r, $"{none} or a whole number from 1000");
        },
    };

    public static Option<string?> Events() => new("--events")
    {
        Description = "Write every event of the run's log to FILE as it happens, one event a line (the bytes the log's hash covers), or to standard output with -",
        HelpName = "FILE",
    };

    public static Option<string?> Json() => new("--json")
    {
        Description = "Also write the figures as JSON to FILE, or to standard output with -",
        HelpName = "FILE|-",
    };

    public static Option<string[]> Set() => new("--set")
    {
        Description = "Override a config key, e.g. --set machine.cpus=8 (repeatable; 'faultsim.' may be left out)",
        HelpName = "key=value",
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<string?> Strategy()
    {
        var option = new Option<string?>("--strategy") { Description = "How the deterministic scheduler orders messages (same as --set explore.strategy=NAME)", HelpName = "random|pct" };
        option.AcceptOnlyFromAmong("random", "pct");
        return option;
    }

    public static Option<string?> TraceFile() => new("--trace-file")
    {
        Description = "Write the run's spans to FILE as Chrome trace-event JSON, one lane per CPU (open it in ui.perfetto.dev); traces every fault unless faultsim.telemetry.traces says which; - for standard output",
        HelpName = "FILE",
    };

    /// <summary>
    /// A command's report: the human one on <paramref name="output"/> unless an output option writes there ("-": --json -, or
    /// <paramref name="outputTaken"/> for another), and the JSON where --json says (<paramref name="target"/>, null when not given).
    /// </summary>
    public static void Report(string? target, TextWriter output, Action human, Func<string> json, bool outputTaken = false)
    {
        if (target != OutputPaths.StandardOutput && !outputTaken)
            human();
        if (target is not null)
            WriteJson(target, json(), output);
    }

    /// <summary>Writes <paramref name="json"/> to the file named by --json, whole, or to <paramref name="output"/> for "-".</summary>
    public static void WriteJson(string target, string json, TextWriter output)
    {
        if (target == OutputPaths.StandardOutput)
            output.WriteLine(json);
        else
            WholeFile.WriteAllText("--json", target, json + Environment.NewLine);
    }
}

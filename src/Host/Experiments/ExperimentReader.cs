using System.Collections.Immutable;
using System.Globalization;
using Akka.Configuration;
using Faultsim.Host.Configuration;

namespace Faultsim.Host.Experiments;

/// <summary>
/// Reads an experiment file's experiment section into an <see cref="ExperimentSpec"/>; anything wrong in it is one
/// <see cref="ConfigException"/> at its file and line. The file's faultsim section is the runs' config, read per run.
/// </summary>
internal sealed class ExperimentReader
{
    public const string Root = "experiment";

    private static readonly string[] Keys = ["description", "vary", "combine", "seeds", "figures", "plot", "traces", "trace-mode", "quick"];
    private static readonly string[] QuickKeys = ["seeds", "vary", "set"];
    private static readonly string[] RangeKeys = ["from", "to", "step", "factor"];

    private readonly string _origin;
    private readonly HoconSourceMap _map;
    private readonly Config _config;

    private ExperimentReader(string origin, HoconSourceMap map, Config config) => (_origin, _map, _config) = (origin, map, config);

    /// <param name="quick">Whether the quick section's seeds, values and keys take the place of the full ones (--quick).</param>
    /// <param name="directory">The directory the file's relative paths (traces) start from.</param>
    public static ExperimentSpec Read(string name, string origin, string text, bool quick, string directory)
    {
        var map = HoconSourceMap.Scan(origin, text);
        Config config;
        try
        {
            config = ConfigurationFactory.ParseString(text);
        }
        catch (Exception e) when (e is FormatException or ConfigurationException or ArgumentException or InvalidOperationException)
        {
            throw new ConfigException(origin, null, $"malformed HOCON: {e.Message.Split('\n')[0].Trim()}");
        }
        return new ExperimentReader(origin, map, config).Read(name, text, quick, directory);
    }

    private ExperimentSpec Read(string name, string text, bool quick, string directory)
    {
        if (!_config.HasPath(Root) || !_config.GetValue(Root).IsObject())
            throw new ConfigException(_origin, null, "has no experiment { … } section; see config/experiments/ for examples");
        foreach (var setting in _map.Settings.Where(s => s.Path.StartsWith(Root + ".", StringComparison.Ordinal)))
        {
            var key = setting.Path[(Root.Length + 1)..].Split('.')[0];
            if (!Keys.Contains(key))
                throw Error(setting.Path, $"unknown key '{setting.Path}'; an experiment takes {string.Join(", ", Keys)}");
            if (key == "quick" && setting.Path.Split('.') is { Length: > 2 } parts && !QuickKeys.Contains(parts[2]))
                throw Error(setting.Path, $"unknown key '{setting.Path}'; quick takes {string.Join(", ", QuickKeys)}");
            if (key == "plot" && setting.Path.Split('.') is { Length: > 2 } plot && plot[2] is not ("x" or "series" or "mark-rises"))
                throw Error(setting.Path, $"unknown key '{setting.Path}'; plot takes x, series and mark-rises");
        }
        var description = String("description");
        var parameters = Parameters($"{Root}.vary");
        if (parameters.IsEmpty)
            throw Error($"{Root}.vary", "varies nothing; give it a key with a list of values, e.g. machine.cpus = [1, 2, 4]");
        var combine = Has("combine") ? String("combine") : "cross";
        if (combine is not ("cross" or "zip"))
            throw Error($"{Root}.combine", $"is '{combine}'; use cross (every combination) or zip (the i-th value of each key)");
        var seeds = Seeds($"{Root}.seeds");
        var sets = ImmutableArray<Parameter>.Empty;
        if (quick && _config.HasPath($"{Root}.quick"))
        {
            if (_config.HasPath($"{Root}.quick.seeds"))
                seeds = Seeds($"{Root}.quick.seeds");
            foreach (var replacement in Parameters($"{Root}.quick.vary"))
            {
                var index = parameters.Select(p => p.Key).ToList().IndexOf(replacement.Key);
                if (index < 0)
                    throw Error($"{Root}.quick.vary.{replacement.Key}", $"varies {replacement.Key}, which experiment.vary does not; quick may only shorten the lists of vary");
                parameters = parameters.SetItem(index, replacement);
            }
            sets = [.. _map.Settings.Where(s => s.Path.StartsWith($"{Root}.quick.set.", StringComparison.Ordinal) && s.Kind is ValueKind.Value or ValueKind.List)
                .Select(s => new Parameter(s.Path[$"{Root}.quick.set.".Length..], [Text(s.Path)], s.Line))];
        }
        if (combine == "zip" && parameters.Select(p => p.Values.Length).Distinct().Count() > 1)
            throw Error($"{Root}.combine", $"is zip, but the lists have different lengths ({string.Join(", ", parameters.Select(p => $"{p.Key}: {p.Values.Length}"))}); give them one length, or cross them");
        var figures = Strings("figures");
        if (figures.IsEmpty)
            throw Error($"{Root}.figures", "names no figure; give figures of a run's JSON, e.g. [\"faults.total\", \"latency.major.p99_ns\", \"ipis\"]");
        foreach (var figure in figures.Where(f => !Figures.IsFigure(f)))
            throw Error($"{Root}.figures", $"names '{figure}', which is not a figure of a run's JSON; use one of {Figures.Describe}");
        var keys = parameters.Select(p => p.Key).ToList();
        var x = Has("plot.x") ? String("plot.x") : keys[0];
        if (!keys.Contains(x))
            throw Error($"{Root}.plot.x", $"is '{x}', which the experiment does not vary; use one of {string.Join(", ", keys)}");
        var series = Has("plot.series") ? String("plot.series") : keys.FirstOrDefault(k => k != x && combine == "cross");
        if (series is not null && (!keys.Contains(series) || series == x))
            throw Error($"{Root}.plot.series", $"is '{series}'; use a varied key other than plot.x ({string.Join(", ", keys.Where(k => k != x))})");
        var traces = Has("traces") ? Strings("traces").Select(t => Path.GetFullPath(Path.Combine(directory, t))).ToImmutableArray() : [];
        var traceMode = Has("trace-mode") ? String("trace-mode") : null;
        if (traceMode is not null && traceMode is not ("threads" or "processes"))
            throw Error($"{Root}.trace-mode", $"is '{traceMode}'; use threads or processes");
        var markRises = Has("plot.mark-rises") && String("plot.mark-rises") switch
        {
            "on" or "true" or "yes" => true,
            "off" or "false" or "no" => false,
            var other => throw Error($"{Root}.plot.mark-rises", $"is '{other}'; use on or off"),
        };
        return new ExperimentSpec(name, _origin, text, description, parameters, combine == "zip", seeds, figures, sets, traces, traceMode, x, series)
        {
            MarkRises = markRises,
            TracesLine = _map.LineOf($"{Root}.traces"),
        };
    }

    /// <summary>The keys varied under <paramref name="section"/>, in file order: each a list of values, or a range { from, to, step | factor }.</summary>
    private ImmutableArray<Parameter> Parameters(string section)
    {
        if (!_config.HasPath(section))
            return [];
        if (!_config.GetValue(section).IsObject())
            throw Error(section, "should be a section { KEY = [ … ], … }");
        var prefix = section + ".";
        var ranges = _map.Settings.Where(s => s.Path.StartsWith(prefix, StringComparison.Ordinal) && s.Kind == ValueKind.Object
            && RangeKeys.Any(k => _map.Sets($"{s.Path}.{k}"))).Select(s => s.Path).ToHashSet();
        var result = ImmutableArray.CreateBuilder<Parameter>();
        foreach (var setting in _map.Settings.Where(s => s.Path.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var key = setting.Path[prefix.Length..];
            var parent = setting.Path[..setting.Path.LastIndexOf('.')];
            if (ranges.Contains(parent))
            {
                if (!RangeKeys.Contains(setting.Path[(parent.Length + 1)..]))
                    throw Error(setting.Path, $"is not a key of a range; a range is {{ from = A, to = B, step = S }} or {{ from = A, to = B, factor = F }}");
                continue;
            }
            if (result.Any(p => p.Key == key))
                throw Error(setting.Path, $"varies {key} twice; give it one list");
            if (setting.Kind == ValueKind.List)
            {
                var values = _config.GetStringList(setting.Path);
                if (values.Count == 0)
                    throw Error(setting.Path, "is an empty list; give it the values to run");
                result.Add(new Parameter(key, [.. values], setting.Line));
            }
            else if (ranges.Contains(setting.Path))
            {
                result.Add(new Parameter(key, Range(setting.Path), setting.Line));
            }
            else if (setting.Kind != ValueKind.Object)
            {
                throw Error(setting.Path, $"should be a list of values, e.g. {key} = [1, 2, 4], or a range {{ from = 1, to = 16, factor = 2 }}");
            }
        }
        return result.ToImmutable();
    }

    private ImmutableArray<string> Range(string path)
    {
        long Number(string key, long fallback)
        {
            if (!_config.HasPath($"{path}.{key}"))
                return fallback;
            var text = _config.GetString($"{path}.{key}");
            return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                ? value : throw Error($"{path}.{key}", $"is '{text}'; a range takes whole numbers");
        }
        if (!_config.HasPath($"{path}.from") || !_config.HasPath($"{path}.to"))
            throw Error(path, "is a range without from and to; write { from = A, to = B, step = S } or factor = F");
        var geometric = _config.HasPath($"{path}.factor");
        if (_config.HasPath($"{path}.step") && geometric)
            throw Error(path, "has both step and factor; give one");
        var (from, to) = (Number("from", 0), Number("to", 0));
        var (step, factor) = (Number("step", 1), Number("factor", 1));
        if (geometric ? factor < 2 || from < 1 : step < 1)
            throw Error(path, geometric ? "needs factor 2 or more from 1 or more" : "needs a step of 1 or more");
        if (to < from)
            throw Error(path, $"goes from {from} down to {to}; give to at least from");
        var values = new List<string>();
        for (var v = from; v <= to && values.Count <= 10_000; v = geometric ? v * factor : v + step)
            values.Add(v.ToString(CultureInfo.InvariantCulture));
        return values.Count > 10_000 ? throw Error(path, "has more than 10,000 values; widen its step") : [.. values];
    }

    private ImmutableArray<ulong> Seeds(string path)
    {
        if (!_config.HasPath(path))
            return [1];
        var value = _config.GetValue(path);
        if (value.IsArray())
        {
            var seeds = _config.GetStringList(path).Select(s => ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var seed)
                ? seed : throw Error(path, $"lists '{s}'; seeds are whole numbers from 0")).ToImmutableArray();
            return seeds.IsEmpty ? throw Error(path, "is an empty list; give at least one seed") : seeds;
        }
        var text = _config.GetString(path);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= 100_000
            ? [.. Enumerable.Range(1, count).Select(i => (ulong)i)]
            : throw Error(path, $"is '{text}'; give a count of seeds from 1 to 100000 (seeds 1..N), or a list of seeds");
    }

    private bool Has(string key) => _config.HasPath($"{Root}.{key}");

    private string String(string key)
    {
        var path = $"{Root}.{key}";
        if (!_config.HasPath(path))
            throw new ConfigException(_origin, _map.LineOf(Root), $"{path} is missing; add it");
        var value = _config.GetValue(path);
        if (!value.IsString())
            throw Error(path, "should be a single value");
        return value.GetString();
    }

    private ImmutableArray<string> Strings(string key)
    {
        var path = $"{Root}.{key}";
        if (!_config.HasPath(path))
            throw new ConfigException(_origin, _map.LineOf(Root), $"{path} is missing; add it");
        if (!_config.GetValue(path).IsArray())
            throw Error(path, "should be a list [ … ]");
        return [.. _config.GetStringList(path)];
    }

    /// <summary>A value as --set writes it: a single value as it is, a list as [a, b].</summary>
    private string Text(string path) =>
        _config.GetValue(path).IsArray() ? $"[{string.Join(", ", _config.GetStringList(path))}]" : _config.GetString(path);

    /// <summary>The line of a key of the experiment: it, or the nearest section above it that the file sets.</summary>
    public int? LineOf(string path)
    {
        for (var p = path; p.Length > 0; p = p.Contains('.') ? p[..p.LastIndexOf('.')] : "")
        {
            if (_map.LineOf(p) is { } line)
                return line;
        }
        return null;
    }

    private ConfigException Error(string path, string message) =>
        new(_origin, LineOf(path), message.StartsWith("unknown key", StringComparison.Ordinal) ? message : $"{path} {message}");
}

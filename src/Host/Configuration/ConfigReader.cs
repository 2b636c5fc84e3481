using System.Globalization;
using Akka.Configuration;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Configuration;

/// <summary>Typed reads of config values; a bad value becomes a <see cref="ConfigException"/> at the line that set it.</summary>
internal sealed class ConfigReader(LoadedConfig loaded, Config config, string prefix)
{
    public LoadedConfig Loaded => loaded;

    public ConfigReader Section(string path)
    {
        if (!config.HasPath(path) || !config.GetValue(path).IsObject())
            throw Error(path, "should be a section { … } (see config/faultsim.conf)");
        return new(loaded, config.GetConfig(path), Full(path));
    }

    public bool Has(string path) => config.HasPath(path);

    /// <summary>The names of the entries of an object, in file order.</summary>
    public IReadOnlyList<string> Names(string path)
    {
        if (!config.HasPath(path))
            return [];
        var value = config.GetValue(path);
        if (!value.IsObject())
            throw Error(path, "should be an object { … } of named entries");
        return [.. value.GetObject().Items.Keys];
    }

    public string String(string path)
    {
        var value = Value(path);
        if (!value.IsString())
            throw Error(path, "should be a single value, not an object or a list");
        return value.GetString() ?? throw Error(path, "is null; give it a value (see config/faultsim.conf)");
    }

    public string? OptionalString(string path) => config.HasPath(path) ? String(path) : null;

    public string Choice(string path, params string[] options)
    {
        var value = String(path).ToLowerInvariant();
        return options.Contains(value) ? value : throw Error(path, $"is '{value}'; use one of {string.Join(", ", options)}");
    }

    public int Int(string path, int min, int max)
    {
        var text = String(path);
        if (!Quantity.TryParse(text, out var value) || value < (ulong)Math.Max(min, 0) || value > (ulong)max)
            throw Error(path, $"is '{text}'; use a whole number from {min} to {max}");
        return (int)value;
    }

    /// <summary>A count from <paramref name="min"/> to <paramref name="max"/> (underscores may group digits).</summary>
    public long Count(string path, long min, long max)
    {
        var text = String(path).Trim();
        return long.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw Error(path, string.Create(CultureInfo.InvariantCulture, $"is '{text}'; use a whole number from {min:N0} to {max:N0}"));
    }

    /// <summary>A count of at least <paramref name="min"/> (underscores may group digits), or the word <paramref name="none"/> (null).</summary>
    public long? CountOr(string path, string none, long min)
    {
        var text = String(path).Trim();
        if (text.Equals(none, StringComparison.OrdinalIgnoreCase))
            return null;
        return long.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min
            ? value
            : throw Error(path, $"is '{text}'; use {none} or a whole number from {min.ToString("N0", CultureInfo.InvariantCulture)}, e.g. 50000000");
    }

    public ulong Seed(string path)
    {
        var text = String(path);
        return Quantity.TryParse(text, out var value) ? value : throw Error(path, $"is '{text}'; use a whole number from 0 to {ulong.MaxValue}");
    }

    public ulong Size(string path)
    {
        var text = String(path);
        return Quantity.TryParse(text, out var value) ? value : throw Error(path, $"is '{text}'; write {Quantity.Describe}");
    }

    /// <summary>The longest simulated latency: longer would let the virtual clock of a long run overflow (and means nothing for a machine).</summary>
    public const long MaxLatencyNanos = 10_000_000_000;

    /// <summary>The longest wall-clock bound (a day).</summary>
    public const long MaxWallNanos = 86_400_000_000_000;

    /// <summary>A duration such as 100us, 2ms, 1s or 500ns, of at most <paramref name="maxNanos"/>.</summary>
    public TimeSpan Duration(string path, long maxNanos = MaxLatencyNanos) => TimeSpan.FromTicks(DurationNanos(path, maxNanos) / 100);

    /// <summary>A duration in nanoseconds, for the virtual clock (TimeSpan rounds below 100 ns), of at most <paramref name="maxNanos"/>.</summary>
    public long DurationNanos(string path, long maxNanos = MaxLatencyNanos)
    {
        var text = String(path).Trim();
        (string Unit, double Nanos)[] units = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9)];
        foreach (var (unit, nanos) in units)
        {
            if (text.EndsWith(unit, StringComparison.Ordinal)
                && double.TryParse(text[..^unit.Length], NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value)
                && double.IsFinite(value))
            {
                var result = value * nanos;
                if (result > maxNanos)
                    throw Error(path, $"is '{text}'; use at most {Describe(maxNanos)}");
                return (long)Math.Round(result);
            }
        }
        throw Error(path, $"is '{text}'; write a duration such as 100us, 2ms or 1s");
    }

    private static string Describe(long nanos) => nanos >= 3_600_000_000_000 ? $"{nanos / 3_600_000_000_000}h ({nanos / 1_000_000_000}s)" : $"{nanos / 1_000_000_000}s";

    public ulong? SizeOrOff(string path)
    {
        var text = String(path);
        if (text.Equals("off", StringComparison.OrdinalIgnoreCase))
            return null;
        return Quantity.TryParse(text, out var value) ? value : throw Error(path, $"is '{text}'; write {Quantity.Describe}, or off");
    }

    public bool Bool(string path, bool fallback = false)
    {
        if (!config.HasPath(path))
            return fallback;
        return String(path).ToLowerInvariant() switch
        {
            "on" or "true" or "yes" => true,
            "off" or "false" or "no" => false,
            var other => throw Error(path, $"is '{other}'; use on or off"),
        };
    }

    public double Fraction(string path)
    {
        var text = String(path);
        return TryFraction(text, out var value) ? value : throw Error(path, $"is '{text}'; use a number from 0 to 1");
    }

    /// <summary>A number from <paramref name="min"/> to <paramref name="max"/> (a weight, a skew).</summary>
    public double Number(string path, double min, double max)
    {
        var text = String(path);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw Error(path, $"is '{text}'; use a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>Reads a number from 0 to 1 (a probability, a ratio).</summary>
    public static bool TryFraction(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && value is >= 0 and <= 1;

    public IReadOnlyList<string> Strings(string path)
    {
        var value = Value(path);
        if (value.IsObject() || (value.IsString() && !value.IsArray()))
            throw Error(path, "should be a list [ … ]");
        return [.. config.GetStringList(path)];
    }

    /// <summary>The line in the workload's file where the value of <paramref name="path"/> starts.</summary>
    public int ValueLine(string path) => loaded.WorkloadValueLine(Full(path));

    public ConfigException Error(string path, string message) => loaded.Error(Full(path), $"{Full(path)} {message}");

    private Akka.Configuration.Hocon.HoconValue Value(string path) =>
        config.HasPath(path) ? config.GetValue(path) : throw loaded.Error(Full(path), $"{Full(path)} is missing; add it (see config/faultsim.conf)");

    private string Full(string path) => prefix.Length == 0 ? path : prefix + "." + path;
}

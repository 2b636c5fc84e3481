using System.Globalization;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace Faultsim.Host.Configuration;

/// <summary>
/// Checks the akka.* keys of a config against Akka.NET's own reference settings: a key Akka.NET does not have, a
/// section where it has a value (or the reverse), and a value of the wrong type (a duration, a number, on/off, a log
/// level) are bad input at their line — Akka.NET would ignore the first and fail on the others only once a system starts.
/// </summary>
internal static class AkkaSchema
{
    private static readonly Lazy<HoconValue> Reference = new(() => ConfigurationFactory.Default().Root);

    /// <summary>Sections whose entries are named by the user (deployments, serializers, bindings): any key goes.</summary>
    private static readonly string[] OpenSections =
    [
        "akka.actor.deployment", "akka.actor.serializers", "akka.actor.serialization-bindings",
        "akka.actor.serialization-identifiers", "akka.actor.serialization-settings",
    ];

    /// <summary>Sections where a user may add a section of their own (a dispatcher or mailbox is defined by a new section).</summary>
    private static readonly string[] ExtensibleSections = ["akka.actor"];

    private static readonly string[] Booleans = ["on", "off", "true", "false", "yes", "no"];
    private static readonly string[] LogLevels = ["DEBUG", "INFO", "WARNING", "ERROR", "OFF"];

    public static void Check(string origin, Setting setting)
    {
        var segments = setting.Path.Split('.');
        var node = Reference.Value;
        for (var i = 0; i < segments.Length; i++)
        {
            var parent = string.Join('.', segments[..i]);
            if (OpenSections.Contains(parent))
                return;
            if (!node.IsObject() || !node.GetObject().Items.TryGetValue(segments[i], out var child))
            {
                if (ExtensibleSections.Contains(parent) && (i < segments.Length - 1 || setting.Kind == ValueKind.Object))
                    return;
                var near = node.IsObject() ? Nearest(segments[i], node.GetObject().Items.Keys) : null;
                var prefix = string.Join('.', segments[..(i + 1)]);
                throw new ConfigException(origin, setting.Line,
                    $"unknown key '{prefix}': Akka.NET has no such setting{(near is null ? "" : $"; did you mean '{parent}.{near}'?")}");
            }
            node = child;
        }
        var expected = node.IsObject() ? ValueKind.Object : node.IsArray() ? ValueKind.List : ValueKind.Value;
        if (setting.Kind == ValueKind.Substitution)
            return;
        if (setting.Kind == ValueKind.Null)
        {
            if (expected == ValueKind.Value && node.GetString() is null)
                return;
            throw new ConfigException(origin, setting.Line, $"{setting.Path} is null; give it a value, or leave the key out for Akka.NET's default");
        }
        if (setting.Kind != expected)
            throw new ConfigException(origin, setting.Line, $"{setting.Path} should be {ConfigSchema.Describe(expected)}, not {ConfigSchema.Describe(setting.Kind)}");
        if (expected == ValueKind.Value && node.GetString() is { } reference)
            CheckValue(origin, setting, reference, Unquote(setting.Text ?? ""));
    }

    /// <summary>A value of the type Akka.NET's reference value has.</summary>
    private static void CheckValue(string origin, Setting setting, string reference, string value)
    {
        string? expected = null;
        if (setting.Path is "akka.loglevel" or "akka.stdout-loglevel")
        {
            if (!LogLevels.Contains(value, StringComparer.OrdinalIgnoreCase))
                expected = $"a log level: {string.Join(", ", LogLevels)}";
        }
        else if (Booleans.Contains(reference, StringComparer.OrdinalIgnoreCase))
        {
            if (!Booleans.Contains(value, StringComparer.OrdinalIgnoreCase))
                expected = "on or off";
        }
        else if (long.TryParse(reference, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
                expected = "a whole number";
        }
        else if (double.TryParse(reference, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
                expected = "a number";
        }
        else if (IsDuration(reference) && !IsDuration(value))
        {
            expected = "a duration such as 100ms, 5s or infinite";
        }
        if (expected is not null)
            throw new ConfigException(origin, setting.Line, $"{setting.Path} is '{value}'; Akka.NET takes {expected} there (its default: {reference})");
    }

    /// <summary>Whether Akka.NET reads <paramref name="text"/> as a duration (a number with a unit, or infinite).</summary>
    private static bool IsDuration(string text)
    {
        if (text.Length == 0 || !(char.IsDigit(text[0]) || text.Equals("infinite", StringComparison.OrdinalIgnoreCase)))
            return false;
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            return false; // a bare number: Akka.NET reads it as milliseconds, but the reference never writes one
        try
        {
            _ = ConfigurationFactory.ParseString($"d = \"{text}\"").GetTimeSpan("d");
            return true;
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException or ConfigurationException or InvalidCastException)
        {
            return false;
        }
    }

    private static string Unquote(string text) =>
        text.Length >= 2 && text[0] == '"' && text[^1] == '"' ? text[1..^1] : text;

    private static string? Nearest(string name, IEnumerable<string> candidates)
    {
        var best = candidates.Select(c => (Key: c, Distance: ConfigSchema.Distance(name, c))).MinBy(c => c.Distance);
        return best.Key is not null && best.Distance <= Math.Max(2, name.Length / 3) ? best.Key : null;
    }
}

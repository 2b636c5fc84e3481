using Akka.Configuration;

namespace Faultsim.Host.Configuration;

/// <summary>Loads the embedded default config, a --config file over it and --set overrides over both, checking every key.</summary>
public static class ConfigLoader
{
    public const string EmbeddedOrigin = "faultsim.conf (embedded)";
    private static readonly Lazy<string> DefaultText = new(ReadEmbedded);

    /// <summary>The text of the embedded default config.</summary>
    public static string DefaultConfigText => DefaultText.Value;

    /// <param name="path">The --config file, or null for the embedded default alone.</param>
    /// <param name="overrides">The --set arguments, each "key=value"; a key without "faultsim." gets it.</param>
    public static LoadedConfig Load(string? path, IReadOnlyList<string> overrides) =>
        LoadText(path is null ? null : (path, File.Exists(path) ? File.ReadAllText(path) : null), overrides);

    /// <param name="file">The file over the default — its origin (for messages) and its text, null when it does not exist.</param>
    public static LoadedConfig LoadText((string Origin, string? Text)? file, IReadOnlyList<string> overrides)
    {
        var defaults = HoconSourceMap.Scan(EmbeddedOrigin, DefaultConfigText);
        var defaultKeys = defaults.Keys.ToHashSet(StringComparer.Ordinal);
        var layers = new List<(HoconSourceMap Map, Config Config)>();

        foreach (var assignment in overrides.Reverse())
            layers.Add(Override(assignment, defaultKeys));
        if (file is var (origin, text))
        {
            if (text is null)
                throw new ConfigException(origin, null, "no such config file; check the path given to --config");
            var map = HoconSourceMap.Scan(origin, text);
            CheckKeys(map, defaultKeys);
            layers.Add((map, Parse(map, text)));
        }
        layers.Add((defaults, Parse(defaults, DefaultConfigText)));

        var merged = layers[0].Config;
        foreach (var layer in layers.Skip(1))
            merged = merged.WithFallback(layer.Config);

        // The workload is taken whole from the highest layer with one (overrides of single keys aside),
        // so that a file's processes never mix with the default's.
        var owner = layers.First(l => l.Map.HasLines && l.Config.HasPath(ConfigSchema.WorkloadPath));
        var workload = owner.Config;
        foreach (var layer in layers.TakeWhile(l => !l.Map.HasLines).Reverse())
            workload = layer.Config.WithFallback(workload);
        return new LoadedConfig(merged, workload.GetConfig(ConfigSchema.WorkloadPath), [.. layers.Select(l => l.Map)], owner.Map);
    }

    /// <summary>A --set argument as the HOCON line it stands for, with its full key.</summary>
    public static (string Key, string Text) OverrideText(string assignment)
    {
        var eq = assignment.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
            throw new ConfigException("--set", null, $"'{assignment}' is not key=value, e.g. --set machine.cpus=8");
        var key = assignment[..eq].Trim();
        if (!key.StartsWith(ConfigSchema.Root + ".", StringComparison.Ordinal) && !key.StartsWith("akka.", StringComparison.Ordinal))
            key = ConfigSchema.Root + "." + key;
        var value = assignment[(eq + 1)..].Trim();
        return (key, $"{key} = {(NeedsQuotes(value) ? Quote(value) : value)}");
    }

    private static (HoconSourceMap, Config) Override(string assignment, IReadOnlySet<string> defaultKeys)
    {
        var (key, text) = OverrideText(assignment);
        var origin = $"--set {assignment}";
        var map = HoconSourceMap.Scan(origin, text, hasLines: false);
        if (!ConfigSchema.IsKnown(key, defaultKeys))
            throw Unknown(origin, null, key, defaultKeys);
        return (map, Parse(map, text));
    }

    private static bool NeedsQuotes(string value) =>
        value.Length == 0 || (!value.StartsWith('[') && !value.StartsWith('{') && !value.StartsWith('"') && value.IndexOfAny([':', '=', '#', ',', ' ', '{', '}', '[', ']']) >= 0);

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static void CheckKeys(HoconSourceMap map, IReadOnlySet<string> defaultKeys)
    {
        foreach (var key in map.Keys)
        {
            if (!ConfigSchema.IsKnown(key, defaultKeys))
                throw Unknown(map.Origin, map.LineOf(key), key, defaultKeys);
        }
    }

    private static ConfigException Unknown(string origin, int? line, string key, IReadOnlySet<string> defaultKeys)
    {
        var suggestion = ConfigSchema.Suggest(key, defaultKeys) is { } near ? $"; did you mean '{near}'?" : "; see config/faultsim.conf for every key";
        return new ConfigException(origin, line, $"unknown key '{key}'{suggestion}");
    }

    private static Config Parse(HoconSourceMap map, string text)
    {
        try
        {
            return ConfigurationFactory.ParseString(text);
        }
        catch (Exception e) when (e is FormatException or ConfigurationException or ArgumentException or InvalidOperationException)
        {
            throw new ConfigException(map.Origin, null, $"malformed HOCON: {e.Message.Split('\n')[0]}");
        }
    }

    private static string ReadEmbedded()
    {
        using var stream = typeof(ConfigLoader).Assembly.GetManifestResourceStream("faultsim.conf")
                           ?? throw new InvalidOperationException("the embedded faultsim.conf is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

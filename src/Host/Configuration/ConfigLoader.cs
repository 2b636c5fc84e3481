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
        LoadText(path is null ? null : (path, ReadFile("--config", path)), overrides);

    /// <summary>The text of a config file given to <paramref name="option"/>; null when there is no such file; a file that cannot be read is bad input.</summary>
    public static string? ReadFile(string option, string path)
    {
        if (Directory.Exists(path))
            throw new ConfigException(path, null, $"is a directory; give {option} a config file");
        if (!File.Exists(path))
            return null;
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(path, null, $"cannot be read ({e.Message.TrimEnd('.')}); give {option} a file you may read");
        }
    }

    /// <param name="file">The file over the default — its origin (for messages) and its text, null when it does not exist.</param>
    public static LoadedConfig LoadText((string Origin, string? Text)? file, IReadOnlyList<string> overrides) =>
        LoadText(file is { } f ? [f] : [], overrides);

    /// <param name="files">The files over the default, the highest first (a --config file over a scenario's) — each its origin
    /// (for messages) and its text, null when it does not exist.</param>
    /// <param name="overrides">The --set arguments, each "key=value", over every file.</param>
    public static LoadedConfig LoadText(IReadOnlyList<(string Origin, string? Text)> files, IReadOnlyList<string> overrides)
    {
        var (defaults, defaultKeys, defaultKinds, defaultConfig) = Defaults.Value;
        var layers = new List<(HoconSourceMap Map, Config Config)>();

        foreach (var assignment in overrides.Reverse())
            layers.Add(Override(assignment, defaultKeys, defaultKinds));
        foreach (var (origin, text) in files)
        {
            if (text is null)
                throw new ConfigException(origin, null, "no such config file; check the path given to --config");
            var map = HoconSourceMap.Scan(origin, text);
            CheckKinds(map, defaultKeys, defaultKinds);
            layers.Add((map, Parse(map, text)));
        }
        layers.Add((defaults, defaultConfig));

        var merged = layers[0].Config;
        foreach (var layer in layers.Skip(1))
            merged = merged.WithFallback(layer.Config);

        // The workload is taken whole from the highest layer with one (overrides of single keys aside),
        // so that a file's processes never mix with the default's.
        // A generator given with --set over a file's scripted workload replaces that workload whole, as a file's would.
        var owner = layers.First(l => l.Map.HasLines && l.Config.HasPath(ConfigSchema.WorkloadPath));
        var sets = layers.TakeWhile(l => !l.Map.HasLines).ToList();
        var generator = $"{ConfigSchema.WorkloadPath}.{GeneratorReader.Section}";
        if (!owner.Config.HasPath(generator) && sets.FirstOrDefault(l => l.Config.HasPath(generator)) is { Map: not null } generated)
            (owner, sets) = (generated, [.. sets.Where(l => l.Config.HasPath(ConfigSchema.WorkloadPath) && l != generated)]);
        var workload = owner.Config;
        foreach (var layer in sets.AsEnumerable().Reverse())
            workload = layer.Config.WithFallback(workload);
        return new LoadedConfig(merged, workload.GetConfig(ConfigSchema.WorkloadPath), [.. layers.Select(l => l.Map)], owner.Map);
    }

    /// <summary>
    /// The embedded default, scanned and parsed once: its keys, their kinds and its config, the lowest layer of every load
    /// (a swarm explore loads a config per seed). Read only, by any thread: a Config's fallbacks make new configs.
    /// </summary>
    private static readonly Lazy<(HoconSourceMap Map, HashSet<string> Keys, Dictionary<string, ValueKind> Kinds, Config Config)> Defaults = new(() =>
    {
        var map = HoconSourceMap.Scan(EmbeddedOrigin, DefaultConfigText);
        var kinds = new Dictionary<string, ValueKind>(StringComparer.Ordinal);
        foreach (var setting in map.Settings)
            kinds[setting.Path] = setting.Kind;
        return (map, map.Keys.ToHashSet(StringComparer.Ordinal), kinds, Parse(map, DefaultConfigText));
    });

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

    private static (HoconSourceMap, Config) Override(string assignment, IReadOnlySet<string> defaultKeys, IReadOnlyDictionary<string, ValueKind> defaultKinds)
    {
        var (key, text) = OverrideText(assignment);
        var origin = $"--set {assignment}";
        var map = HoconSourceMap.Scan(origin, text, hasLines: false);
        if (!ConfigSchema.IsKnown(key, defaultKeys))
            throw Unknown(origin, null, key, defaultKeys);
        CheckKinds(map, defaultKeys, defaultKinds);
        return (map, Parse(map, text));
    }

    private static bool NeedsQuotes(string value) =>
        value.Length == 0 || (!value.StartsWith('[') && !value.StartsWith('{') && !value.StartsWith('"') && value.IndexOfAny([':', '=', '#', ',', ' ', '{', '}', '[', ']']) >= 0);

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// Every key, in the order the text sets them, known and set to the kind of value it takes: a section where the default
    /// has a section, a list where it has a list, a single value where it has one, and never null. (Akka's merge of a value
    /// over a section fails without a word.)
    /// </summary>
    private static void CheckKinds(HoconSourceMap map, IReadOnlySet<string> defaultKeys, IReadOnlyDictionary<string, ValueKind> defaultKinds)
    {
        foreach (var setting in map.Settings)
        {
            if (!ConfigSchema.IsKnown(setting.Path, defaultKeys))
                throw Unknown(map.Origin, setting.Line, setting.Path, defaultKeys);
            if (setting.Path == "akka" || setting.Path.StartsWith("akka.", StringComparison.Ordinal))
            {
                AkkaSchema.Check(map.Origin, setting);
                continue;
            }
            if (setting.Kind == ValueKind.Null)
                throw new ConfigException(map.Origin, setting.Line, $"{setting.Path} is null; give it a value (see config/faultsim.conf), or leave the key out for its default");
            if (setting.Kind == ValueKind.Substitution || ConfigSchema.Expected(setting.Path, defaultKinds) is not { } expected || expected == setting.Kind)
                continue;
            throw new ConfigException(map.Origin, setting.Line,
                $"{setting.Path} should be {ConfigSchema.Describe(expected)}, not {ConfigSchema.Describe(setting.Kind)}{Example(setting.Path, expected)}");
        }
    }

    private static string Example(string path, ValueKind expected) => expected switch
    {
        ValueKind.Object => $", e.g. {path} {{ … }} or {path}.KEY = VALUE",
        ValueKind.List => $", e.g. {path} = [ … ]",
        _ => $", e.g. {path} = VALUE",
    };

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
            var message = e.Message.Split('\n')[0].Trim();
            const string unresolved = "Unresolved substitution:";
            if (message.StartsWith(unresolved, StringComparison.Ordinal))
            {
                var name = message[unresolved.Length..].Trim();
                throw new ConfigException(map.Origin, map.SubstitutionLine(name),
                    $"${{{name}}} names no key set in this file; set {name} in it, write the value itself, or use ${{?{name}}} for an optional one");
            }
            throw new ConfigException(map.Origin, null, $"malformed HOCON: {message}");
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

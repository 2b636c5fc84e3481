namespace Faultsim.Host.Configuration;

/// <summary>The config files embedded in the binary under a folder (scenarios/, experiments/): their names and their text.</summary>
internal static class EmbeddedConfigs
{
    /// <summary>The names of the files under <paramref name="folder"/> (e.g. "scenarios/"), without .conf, in order.</summary>
    public static IReadOnlyList<string> Names(string folder) =>
    [
        .. typeof(EmbeddedConfigs).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(folder, StringComparison.Ordinal))
            .Select(n => n[folder.Length..^".conf".Length])
            .Order(StringComparer.Ordinal),
    ];

    public static string Text(string folder, string name)
    {
        using var stream = typeof(EmbeddedConfigs).Assembly.GetManifestResourceStream(folder + name + ".conf")
                           ?? throw new InvalidOperationException($"the embedded {folder}{name}.conf is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

namespace Faultsim.Host.Configuration;

/// <summary>Bad configuration: the message names the origin (file, or --set) and the line, and says how to fix it.</summary>
public sealed class ConfigException(string origin, int? line, string message)
    : Exception(line is { } l ? $"{origin}:{l}: {message}" : $"{origin}: {message}")
{
    public string Origin { get; } = origin;
    public int? Line { get; } = line;
}

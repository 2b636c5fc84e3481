namespace Faultsim.Host.Cli;

/// <summary>What every command writes to and reads from: standard output, standard error and the environment.</summary>
/// <param name="Environment">Reads an environment variable (OTEL_*, FAULTSIM_DEBUG); null when unset.</param>
internal sealed record CliContext(TextWriter Output, TextWriter Error, Func<string, string?> Environment);

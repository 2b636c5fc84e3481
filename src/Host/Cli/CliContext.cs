namespace Faultsim.Host.Cli;

/// <summary>What every command writes to and reads from: standard output, standard error, the environment, and the user's interrupt.</summary>
/// <param name="Environment">Reads an environment variable (OTEL_*, FAULTSIM_DEBUG); null when unset.</param>
/// <param name="Interrupt">Cancelled when the user interrupts (Ctrl-C, SIGINT): the command stops, reports what it did, and exits 130.</param>
internal sealed record CliContext(TextWriter Output, TextWriter Error, Func<string, string?> Environment, CancellationToken Interrupt = default);

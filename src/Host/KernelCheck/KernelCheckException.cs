namespace Faultsim.Host.KernelCheck;

/// <summary>The native helper misbehaved (it is part of faultsim: an internal error, exit 70).</summary>
internal sealed class KernelCheckException(string message) : Exception(message);

using System.Globalization;
using Faultsim.Model.Checking;

namespace Faultsim.Actors;

// Correlation ids of the engine's requests: each request carries one and its reply names it back.

/// <summary>One fault, from the walk that failed to the wake-up of its CPU.</summary>
public readonly record struct FaultId(long Value)
{
    public override string ToString() => FaultName.Of(Value);
}

/// <summary>One quantum of accesses a CPU hands its TLB.</summary>
public readonly record struct QuantumId(long Value);

/// <summary>One shootdown round: IPIs out, acknowledgements back.</summary>
public readonly record struct ShootdownId(long Value)
{
    public override string ToString() => "shootdown#" + Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One system call of a CPU.</summary>
public readonly record struct SyscallId(long Value);

/// <summary>One disk request.</summary>
public readonly record struct DiskRequestId(long Value);

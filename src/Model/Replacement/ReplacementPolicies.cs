using Faultsim.Model.Addressing;

namespace Faultsim.Model.Replacement;

/// <summary>The one place a replacement policy is made, for every engine.</summary>
public static class ReplacementPolicies
{
    /// <summary>Whether a run of <paramref name="machine"/> needs its future recorded first (OPT does).</summary>
    public static bool NeedsFuture(Workloads.MachineSpec machine) => machine.Policy == ReplacementPolicyKind.Opt;

    /// <summary>A policy of <paramref name="kind"/>; OPT needs <paramref name="future"/>, every page reference of the run in order.</summary>
    public static IReplacementPolicy Create(ReplacementPolicyKind kind, IReadOnlyList<PageKey>? future = null) => kind switch
    {
        ReplacementPolicyKind.Fifo => new FifoPolicy(),
        ReplacementPolicyKind.Lru => new LruPolicy(),
        ReplacementPolicyKind.Clock => new ClockPolicy(),
        ReplacementPolicyKind.Opt => new OptimalPolicy(future
            ?? throw new ArgumentException("OPT replacement needs the run's future page references (a recording run)", nameof(future))),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no such replacement policy"),
    };
}

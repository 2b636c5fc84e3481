using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;

namespace Faultsim.Model.Shootdowns;

/// <summary>
/// The shootdown rules every engine follows: which rounds a set of PTE changes needs in each mode, who is sent an
/// IPI, and how rounds are counted. A round targets every CPU in the address space's CPU mask; the CPU that started
/// it (the one that changed the PTEs, or that reclaim ran on) flushes its own TLB without an IPI.
/// </summary>
public static class ShootdownRules
{
    /// <summary>The rounds <paramref name="changes"/> of one address space need: none when no valid translation changed.</summary>
    public static IReadOnlyList<ShootdownScope> Rounds(ShootdownMode mode, Asid asid, IReadOnlyList<PteChange> changes)
    {
        List<ShootdownScope>? rounds = null;
        PageNumber low = default, high = default;
        foreach (var change in changes)
        {
            if (!change.NeedsShootdown)
                continue;
            if (mode == ShootdownMode.Eager)
            {
                (rounds ??= []).Add(ShootdownScope.OnePage(asid, change.Page));
                continue;
            }
            if (rounds is null)
            {
                rounds = [];
                (low, high) = (change.Page, change.Page);
            }
            low = change.Page < low ? change.Page : low;
            high = change.Page > high ? change.Page : high;
        }
        if (rounds is null)
            return [];
        if (mode != ShootdownMode.Eager)
            rounds.Add(new ShootdownScope(asid, low, high + 1, All: false));
        return rounds;
    }

    /// <summary>The IPIs a round sends: one to each target other than the initiator, none in lazy mode.</summary>
    public static int Ipis(ShootdownMode mode, IEnumerable<CpuId> targets, CpuId initiator) =>
        mode == ShootdownMode.Lazy ? 0 : targets.Count(t => t != initiator);
}

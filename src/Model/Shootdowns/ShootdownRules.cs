using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Workloads;

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

    /// <summary>
    /// The rounds a range operation of <paramref name="mm"/> over pages <paramref name="range"/> [From, To) needs (munmap,
    /// madvise(DONTNEED), mmap over a range, mprotect, fork over the whole address space): its changes' rounds, and also
    /// every page of the range that a round still in flight covers. Such a page's PTE is gone or swapped out already, so
    /// its change shows nothing to flush, but a TLB that has not acknowledged that round may still cache the old
    /// translation, and the call must not return while one may. Linux's rule is the same: a pending flush of the mm
    /// (mm_tlb_flush_pending) makes the zap flush its range even though the PTEs are gone; Linux flushes the whole range,
    /// this the pages a pending round covers. In eager mode each such part is a round of its own; in the other modes the
    /// one round spans them and the changed pages.
    /// </summary>
    public static IReadOnlyList<ShootdownScope> RangeRounds(ShootdownMode mode, AddressSpace mm, (PageNumber From, PageNumber To) range,
        IReadOnlyList<PteChange> changes)
    {
        var rounds = Rounds(mode, mm.Asid, changes);
        if (mm.FlushesPending.Count == 0)
            return rounds;
        var cached = mm.FlushesPending.Within(range.From, range.To).ToList();
        if (cached.Count == 0)
            return rounds;
        if (mode != ShootdownMode.Eager)
        {
            var low = cached.Min(c => c.From);
            var high = cached.Max(c => c.To);
            if (rounds.Count > 0)
                (low, high) = (rounds[0].From < low ? rounds[0].From : low, rounds[0].To > high ? rounds[0].To : high);
            return [new ShootdownScope(mm.Asid, low, high, All: false)];
        }
        var all = new List<ShootdownScope>(rounds);
        foreach (var (low, high) in cached)
        {
            var scope = new ShootdownScope(mm.Asid, low, high, All: false);
            if (!all.Contains(scope))
                all.Add(scope);
        }
        return all;
    }

    /// <summary>
    /// The pages a system call's flush covers besides its changes (<see cref="RangeRounds"/>): the range it zaps or
    /// protects, the whole address space for fork, none for the calls that change no PTE of a range themselves
    /// (madvise(PAGEOUT) — its evictions flush — and exit, which flushes everything).
    /// </summary>
    public static (PageNumber From, PageNumber To) RangeOf(SystemCall call) => call switch
    {
        SystemCall.Mmap map => (map.Start.Page, (map.Start + map.Length).Page),
        SystemCall.Munmap unmap => (unmap.Start.Page, unmap.End.Page),
        SystemCall.Mprotect protect => (protect.Start.Page, protect.End.Page),
        SystemCall.Madvise { Advice: Advice.DontNeed } advise => (advise.Start.Page, advise.End.Page),
        SystemCall.Fork => (new PageNumber(0), VirtualAddress.UserEnd.Page),
        SystemCall.Mremap remap => (remap.Start.Page, (remap.Start + remap.Length).Page),
        _ => (default, default),
    };

    /// <summary>The IPIs a round sends: one to each target other than the initiator, none in lazy mode.</summary>
    public static int Ipis(ShootdownMode mode, IEnumerable<CpuId> targets, CpuId initiator) =>
        mode == ShootdownMode.Lazy ? 0 : targets.Count(t => t != initiator);
}

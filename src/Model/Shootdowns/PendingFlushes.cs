using Faultsim.Model.Addressing;

namespace Faultsim.Model.Shootdowns;

/// <summary>
/// The shootdown rounds of one address space that have started and are not yet acknowledged by every target (Linux's
/// mm->tlb_flush_pending). While one is, a TLB that has not acknowledged it may still cache a translation the page
/// table no longer holds: an eviction's round, say, whose PTE is a swap entry already.
/// </summary>
public sealed class PendingFlushes
{
    private readonly Dictionary<long, ShootdownScope> _rounds = [];

    /// <summary>How many rounds are in flight.</summary>
    public int Count => _rounds.Count;

    public void Started(long round, ShootdownScope scope) => _rounds.Add(round, scope);

    /// <summary>Every target acknowledged the round: no TLB caches what it covers any more.</summary>
    public void Finished(long round) => _rounds.Remove(round);

    /// <summary>The parts of pages [<paramref name="from"/>, <paramref name="to"/>) that some round in flight covers, in order of the rounds' start.</summary>
    public IEnumerable<(PageNumber From, PageNumber To)> Within(PageNumber from, PageNumber to)
    {
        foreach (var (_, scope) in _rounds.OrderBy(r => r.Key))
        {
            var low = scope.All || scope.From < from ? from : scope.From;
            var high = scope.All || scope.To > to ? to : scope.To;
            if (low < high)
                yield return (low, high);
        }
    }
}

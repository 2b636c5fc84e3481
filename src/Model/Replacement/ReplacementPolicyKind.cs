namespace Faultsim.Model.Replacement;

/// <summary>The page-replacement policies faultsim offers when frames run out.</summary>
public enum ReplacementPolicyKind
{
    /// <summary>Evict the page loaded longest ago.</summary>
    Fifo,
    /// <summary>Evict the page used longest ago.</summary>
    Lru,
    /// <summary>Second chance: sweep a hand over the frames, clearing use bits, and evict the first without one.</summary>
    Clock,
    /// <summary>Belady's offline optimum: evict the page whose next use is farthest away (needs the future, so a baseline).</summary>
    Opt,
}

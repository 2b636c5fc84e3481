namespace Faultsim.Model.Faults;

/// <summary>
/// A fault whose page loader crashed under it is no resolution (it does not count, see <see cref="FaultHandler"/>): it is
/// retried after a backoff that doubles with each crash in a row on that access, as a retry loop waits for a recovering
/// subsystem. The doubling is capped, so a flaky loader slows a fault down but never stalls it.
/// </summary>
public static class RetryBackoff
{
    /// <summary>The most doublings: the longest backoff is 64 times the first.</summary>
    public const int MaxDoublings = 6;

    /// <summary>How long to wait before retrying after the <paramref name="crashesInARow"/>th crash (from 1), the first waiting <paramref name="firstNanos"/>.</summary>
    public static long After(int crashesInARow, long firstNanos)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(crashesInARow);
        return firstNanos << Math.Min(crashesInARow - 1, MaxDoublings);
    }
}

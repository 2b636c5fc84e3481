using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;

namespace Faultsim.Actors.Telemetry;

/// <summary>
/// How actors record metrics: each helper costs one check while no meter listener is attached, and reuses its tags.
/// </summary>
public static class FaultMetrics
{
    private static readonly KeyValuePair<string, object?>[] ResolutionTags =
        [.. Enum.GetValues<ResolutionKind>().Select(k => new KeyValuePair<string, object?>(Instruments.Attributes.Resolution, k.Name()))];

    private static readonly KeyValuePair<string, object?> Hit = new(Instruments.Attributes.TlbResult, "hit");
    private static readonly KeyValuePair<string, object?> Miss = new(Instruments.Attributes.TlbResult, "miss");

    /// <summary>A counted fault of <paramref name="pid"/>, and its simulated latency.</summary>
    public static void Resolved(ResolutionKind kind, ProcessId pid, long latencyNanos)
    {
        var resolution = ResolutionTags[(int)kind];
        if (Instruments.Faults.Enabled)
            Instruments.Faults.Add(1, resolution, new KeyValuePair<string, object?>(Instruments.Attributes.Pid, pid.Value));
        if (Instruments.FaultDuration.Enabled)
            Instruments.FaultDuration.Record(latencyNanos / 1e9, resolution);
    }

    /// <summary>The TLB lookups of a quantum.</summary>
    public static void Lookups(long hits, long misses)
    {
        if (!Instruments.TlbLookups.Enabled)
            return;
        if (hits > 0)
            Instruments.TlbLookups.Add(hits, Hit);
        if (misses > 0)
            Instruments.TlbLookups.Add(misses, Miss);
    }

    /// <summary>A disk request queued (+1) or done (−1); <paramref name="read"/> for a page read that is done.</summary>
    public static void Disk(int delta, bool read = false)
    {
        if (Instruments.DiskQueueDepth.Enabled)
            Instruments.DiskQueueDepth.Add(delta);
        if (read && Instruments.DiskReads.Enabled)
            Instruments.DiskReads.Add(1);
    }

    /// <summary>A loader bound to a page (+1), or free again (−1).</summary>
    public static void Loaders(int delta)
    {
        if (Instruments.ActiveLoaders.Enabled)
            Instruments.ActiveLoaders.Add(delta);
    }

    /// <summary>A finished shootdown round: its IPIs and how long it took, in simulated time.</summary>
    public static void Shootdown(int ipis, long nanos)
    {
        if (ipis > 0 && Instruments.Ipis.Enabled)
            Instruments.Ipis.Add(ipis);
        if (Instruments.ShootdownDuration.Enabled)
            Instruments.ShootdownDuration.Record(nanos / 1e9);
    }
}

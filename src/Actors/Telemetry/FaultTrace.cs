using System.Diagnostics;
using Faultsim.Actors.Scheduling;

namespace Faultsim.Actors.Telemetry;

/// <summary>
/// Which faults are traced, and how a span's virtual time maps to a timestamp. <see cref="Ratio"/> of the faults (and of
/// the shootdowns no fault started) are sampled, chosen by a hash of the seed and the fault's id, so a deterministic run
/// samples the same ones every time. <see cref="Epoch"/> is the timestamp of the simulation clock's zero.
/// </summary>
public sealed record TraceSettings(double Ratio, ulong Seed, DateTime Epoch)
{
    public static readonly TraceSettings None = new(0, 0, DateTime.UnixEpoch);

    /// <summary>Traces <paramref name="ratio"/> of the faults; the engine sets the seed and the epoch when a run starts.</summary>
    public static TraceSettings Sampling(double ratio) => new(ratio, 0, DateTime.UnixEpoch);

    /// <summary>These settings for the run of <paramref name="seed"/>, whose simulation clock reads <paramref name="nowNanos"/> at the wall clock's now.</summary>
    public TraceSettings ForRun(ulong seed, long nowNanos) => this with { Seed = seed, Epoch = DateTime.UtcNow.AddTicks(-(nowNanos / 100)) };
}

/// <summary>
/// How actors record spans: the one place that creates activities. The sampling decision is taken once, before any
/// activity exists (an activity costs hundreds of nanoseconds even when a sampler then drops it); an unsampled fault
/// carries <see cref="TraceContext.None"/> and every later step skips it with one comparison. Spans take their
/// timestamps from the simulation clock: virtual time in deterministic runs, so a trace shows simulated latency.
/// Most spans are recorded when they end, with the start the actor noted; only a fault's root and a shootdown stay open.
/// </summary>
public sealed class FaultTrace(TraceSettings settings, SimTime time)
{
    private readonly ulong _threshold = settings.Ratio >= 1 ? ulong.MaxValue : (ulong)(settings.Ratio * ulong.MaxValue);

    /// <summary>Whether the trace of <paramref name="key"/> (a fault's id, a shootdown's) is recorded.</summary>
    public bool Samples(long key)
    {
        if (settings.Ratio <= 0)
            return false;
        if (settings.Ratio >= 1)
            return true;
        var z = settings.Seed ^ (ulong)key;   // SplitMix64's finaliser: nearby ids spread over the range
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return (z ^ (z >> 31)) < _threshold;
    }

    /// <summary>Opens the root span of a new trace, starting now, if <paramref name="key"/> is sampled (and anyone listens).</summary>
    public Activity? StartRoot(string name, long key) => StartRoot(name, key, time.NowNanos);

    /// <summary>Opens the root span of a new trace, starting at <paramref name="startNanos"/>, if <paramref name="key"/> is sampled.</summary>
    public Activity? StartRoot(string name, long key, long startNanos) => Samples(key) ? Open(name, default, startNanos) : null;

    /// <summary>Opens a span under <paramref name="parent"/>, starting now; null when the parent is not sampled.</summary>
    public Activity? StartChild(TraceContext parent, string name) => parent.IsSampled ? Open(name, parent.ToActivityContext(), time.NowNanos) : null;

    /// <summary>Records a finished step under <paramref name="parent"/>: from <paramref name="startNanos"/> until now.</summary>
    public void Span(TraceContext parent, string name, long startNanos)
    {
        if (parent.IsSampled) // the clock is read only for a span to record (live, it is a system call away)
            Span(parent, name, startNanos, time.NowNanos);
    }

    /// <summary>Records a finished step under <paramref name="parent"/>, from <paramref name="startNanos"/> to <paramref name="endNanos"/>.</summary>
    public void Span(TraceContext parent, string name, long startNanos, long endNanos)
    {
        if (parent.IsSampled && Create(name, parent.ToActivityContext(), startNanos) is { } span)
            End(span, endNanos);
    }

    /// <summary>A finished step until now, with one attribute.</summary>
    public void Span(TraceContext parent, string name, long startNanos, string key, object? value)
    {
        if (parent.IsSampled && Create(name, parent.ToActivityContext(), startNanos) is { } span)
        {
            span.SetTag(key, value);
            End(span, time.NowNanos);
        }
    }

    /// <summary>Ends an open span now.</summary>
    public void End(Activity? span)
    {
        if (span is not null)
            End(span, time.NowNanos);
    }

    private void End(Activity span, long endNanos)
    {
        span.SetEndTime(At(endNanos));
        span.Stop();
    }

    /// <summary>Drops an open root unexported: the TLB miss it was opened for turned out not to be a fault.</summary>
    public static void Discard(Activity? span)
    {
        if (span is null)
            return;
        span.IsAllDataRequested = false;
        span.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
        span.Stop();
    }

    public DateTime At(long nanos) => settings.Epoch.AddTicks(nanos / 100);

    private Activity? Open(string name, ActivityContext parent, long startNanos)
    {
        var span = Create(name, parent, startNanos);
        Activity.Current = null; // it stays open across messages: nothing else on this thread is its child
        return span;
    }

    private Activity? Create(string name, ActivityContext parent, long startNanos)
    {
        var span = Instruments.Source.CreateActivity(name, ActivityKind.Internal, parent);
        if (span is null)
            return null;
        span.SetStartTime(At(startNanos));
        span.Start();
        return span;
    }
}

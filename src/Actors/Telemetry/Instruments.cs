using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Faultsim.Actors.Telemetry;

/// <summary>
/// faultsim's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, with every span, attribute and metric name the
/// engine emits, declared once. Names follow OpenTelemetry's style: lower-case, dot-separated, under a faultsim namespace
/// where no semantic convention fits a simulated machine. The SDK and exporters are wired by the Host only.
/// </summary>
public static class Instruments
{
    public const string Name = "Faultsim";

    private static readonly string? Version = typeof(Instruments).Assembly.GetName().Version?.ToString();

    public static readonly ActivitySource Source = new(Name, Version);
    public static readonly Meter Meter = new(Name, Version);

    /// <summary>Span names: a fault's root and its steps, and a shootdown with one span per IPI.</summary>
    public static class Spans
    {
        public const string Fault = "fault";
        public const string TlbLookup = "tlb.lookup";
        public const string PageWalk = "page.walk";
        public const string VmaLookup = "vma.lookup";
        public const string LoaderWait = "loader.wait";
        public const string DiskRead = "disk.read";
        public const string PageZero = "page.zero";
        public const string PageCopy = "page.copy";
        public const string PteInstall = "pte.install";
        public const string Shootdown = "shootdown";
        public const string Ipi = "ipi";
    }

    /// <summary>Span and metric attribute names.</summary>
    public static class Attributes
    {
        public const string Cpu = "faultsim.cpu.id";
        public const string Pid = "faultsim.process.pid";
        public const string Address = "faultsim.fault.address";
        public const string Access = "faultsim.fault.access";
        public const string ErrorCode = "faultsim.fault.error_code";
        public const string Resolution = "faultsim.fault.resolution";
        public const string Outcome = "faultsim.fault.outcome";
        public const string Latency = "faultsim.fault.latency_ns";
        public const string Block = "faultsim.disk.block";
        public const string Asid = "faultsim.shootdown.asid";
        public const string Initiator = "faultsim.shootdown.initiator";
        public const string Targets = "faultsim.shootdown.targets";
        public const string TlbResult = "faultsim.tlb.result";
    }

    /// <summary>Bucket boundaries for simulated latencies, in seconds: 100 ns to 100 ms, three a decade.</summary>
    private static readonly IReadOnlyList<double> LatencyBuckets =
        [1e-7, 2e-7, 5e-7, 1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1];

    public static readonly Counter<long> Faults = Meter.CreateCounter<long>(
        "faultsim.faults", "{fault}", "Faults resolved, by resolution and process");

    public static readonly Histogram<double> FaultDuration = Meter.CreateHistogram(
        "faultsim.fault.duration", "s", "Simulated fault latency, from the TLB miss to the retried access, by resolution",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    public static readonly Counter<long> DiskReads = Meter.CreateCounter<long>(
        "faultsim.disk.reads", "{read}", "Pages read from the disk (files and swap)");

    public static readonly UpDownCounter<long> DiskQueueDepth = Meter.CreateUpDownCounter<long>(
        "faultsim.disk.queue.depth", "{request}", "Disk requests queued or in service");

    public static readonly Counter<long> Ipis = Meter.CreateCounter<long>(
        "faultsim.ipis", "{ipi}", "TLB-shootdown IPIs sent to other CPUs");

    public static readonly Histogram<double> ShootdownDuration = Meter.CreateHistogram(
        "faultsim.shootdown.duration", "s", "Simulated time from a shootdown's start to its last acknowledgement",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });

    public static readonly Counter<long> TlbLookups = Meter.CreateCounter<long>(
        "faultsim.tlb.lookups", "{lookup}", "TLB lookups by result (hit or miss); the hit rate is hits over all lookups");

    public static readonly UpDownCounter<long> ActiveLoaders = Meter.CreateUpDownCounter<long>(
        "faultsim.loaders.active", "{actor}", "Per-page loader actors bound to a page being resolved");
}

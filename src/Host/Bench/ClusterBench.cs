using System.Collections.Immutable;
using System.Diagnostics;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Placement;
using Faultsim.Actors.Serialization;
using Faultsim.Host.Cluster;
using Faultsim.Model.Machine;

namespace Faultsim.Host.Bench;

/// <summary>A cluster `bench --cluster` times: the roles of its three nodes and where a run's parts go on them.</summary>
public sealed record ClusterLayout(string Name, ImmutableArray<string[]> Roles, PlacementRule Rule, string Description)
{
    /// <summary>The shipped config/cluster/local-node*.conf roles and run --cluster's placement.</summary>
    public static readonly ClusterLayout Spread = new("spread", [[NodeRoles.Cpu, NodeRoles.Memory], [NodeRoles.Cpu, NodeRoles.Pager], [NodeRoles.Disk, NodeRoles.Pager]],
        PlacementRule.Spread, "the roles of config/cluster/local-node*.conf, run --cluster's placement: the CPUs (each with its TLB) alternate over the two cpu nodes, the loaders sharded over the two pager nodes");

    /// <summary>Every part of a fault but its loader on the memory node; the loaders sharded over all three nodes.</summary>
    public static readonly ClusterLayout ColocatedShardsSpread = new("colocated, loaders spread",
        [[NodeRoles.Cpu, NodeRoles.Memory, NodeRoles.Pager], [NodeRoles.Cpu, NodeRoles.Pager], [NodeRoles.Disk, NodeRoles.Pager]],
        PlacementRule.Colocated, "the CPUs, TLBs, the address space and the loaders' routing point on the memory node, the loaders sharded over the three pager nodes");

    /// <summary>Every part of a fault on the memory node, the only pager: a fault's messages stay on one node.</summary>
    public static readonly ClusterLayout Colocated = new("colocated",
        [[NodeRoles.Cpu, NodeRoles.Memory, NodeRoles.Pager], [NodeRoles.Cpu, NodeRoles.Disk], [NodeRoles.Cpu]],
        PlacementRule.Colocated, "every part of a fault (CPUs, TLBs, the address space, the loaders' shards, memory) on the one node with cpu, memory and pager; the disk on the second node, the third's cpu role unused");

    public static readonly ImmutableArray<ClusterLayout> All = [Spread, ColocatedShardsSpread, Colocated];
}

/// <summary>What serialization cost a run: faultsim's messages to and from bytes, measured in one run with the serializers' meter on.</summary>
/// <param name="Encoded">Messages serialized (every one that crossed nodes, once).</param>
public sealed record WireFigures(long Encoded, long Decoded, long Bytes, TimeSpan EncodeTime, TimeSpan DecodeTime);

/// <summary>A layout's figures: the cluster's run against the run on one node in the same process, medians of interleaved runs.</summary>
/// <param name="Messages">Actor messages of one cluster run; <paramref name="Crossed"/> of them came from another node.</param>
public sealed record ClusterBenchResult(ClusterLayout Layout, BenchCase Case, int Runs, double ClusterSeconds, double OneNodeSeconds, long Messages, long Crossed,
    long OneNodeMessages, WireFigures Wire)
{
    public double FaultsPerSecond => Case.Faults / ClusterSeconds;
    public double OneNodeFaultsPerSecond => Case.Faults / OneNodeSeconds;

    /// <summary>The cluster's speed as a share of one node's.</summary>
    public double Ratio => OneNodeSeconds / ClusterSeconds;

    public double MessagesPerFault => Messages / (double)Case.Faults;
    public double CrossedPerFault => Crossed / (double)Case.Faults;
    public double CrossedShare => Messages == 0 ? 0 : Crossed / (double)Messages;

    /// <summary>Microseconds a fault takes on the cluster, and on one node.</summary>
    public double MicrosPerFault => ClusterSeconds * 1e6 / Case.Faults;
    public double OneNodeMicrosPerFault => OneNodeSeconds * 1e6 / Case.Faults;

    /// <summary>Microseconds of a fault spent serializing and deserializing what crossed (thread time, summed over threads).</summary>
    public double SerializationMicrosPerFault => (Wire.EncodeTime + Wire.DecodeTime).TotalMicroseconds / Case.Faults;

    /// <summary>The rest of what a fault costs on the cluster beyond one node: remoting's transport, its threads and the hops between them.</summary>
    public double TransportMicrosPerFault => Math.Max(0, MicrosPerFault - OneNodeMicrosPerFault - SerializationMicrosPerFault);

    public double BytesPerCrossedMessage => Wire.Encoded == 0 ? 0 : Wire.Bytes / (double)Wire.Encoded;

    /// <summary>The faults per second the issue sets for a 3-node loopback cluster.</summary>
    public const double Target = 100_000;

    public bool TargetMet => FaultsPerSecond >= Target;
}

/// <summary>
/// bench --cluster: the demand-zero workload on a 3-node cluster on loopback in this process, submitted from a client
/// member as `run --cluster` does, in each <see cref="ClusterLayout"/>, against the same workload on one node (the live
/// engine) in the same process. Each layout gets a cluster of its own: a warm-up run (checked to take exactly the
/// workload's faults), a run with the serializers' meter on (where serialization's time is read), then timed runs,
/// each one-node run followed by a cluster run, from a collected heap; the medians give the rates.
/// </summary>
public static class ClusterBench
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <param name="oneNode">The live one-node runner of the same bench (its system and settings).</param>
    /// <param name="overrides">The bench's --set, which the nodes rebuild the run with.</param>
    public static List<ClusterBenchResult> Measure(BenchCase bench, string hocon, IReadOnlyList<string> overrides, int runs, BenchRunner oneNode,
        IReadOnlyList<ClusterLayout> layouts, CancellationToken interrupt)
    {
        var results = new List<ClusterBenchResult>();
        var oneNodeWarm = oneNode.RunOnce(bench, out _, measureMemory: false, interrupt);
        oneNode.Check(bench, oneNodeWarm);
        var spec = new RunSpec($"bench {bench.Name}", hocon, [.. overrides, "seed=1"]);
        foreach (var layout in layouts.TakeWhile(_ => !interrupt.IsCancellationRequested))
        {
            var measured = MeasureLayout(bench, spec, runs, oneNode, oneNodeWarm.Messages, layout, interrupt).GetAwaiter().GetResult();
            if (measured is not null)
                results.Add(measured);
        }
        return results;
    }

    private static async Task<ClusterBenchResult?> MeasureLayout(BenchCase bench, RunSpec spec, int runs, BenchRunner oneNode, long oneNodeMessages,
        ClusterLayout layout, CancellationToken interrupt)
    {
        await using var cluster = await LoopbackCluster.StartAsync(LoopbackCluster.Settings("faultsim-bench", TimeSpan.FromSeconds(5)), layout.Roles, Bound, quiet: true)
            .ConfigureAwait(false);
        RunResult Run() => ClusterRun.RunAsync(cluster.Client, spec, Running.Runner.LiveTimeout, interrupt, layout.Rule, captureMemory: false)
            .GetAwaiter().GetResult().Result!;
        RunResult warm;
        WireFigures wire;
        try
        {
            warm = Run();
            if (warm.Totals.Total != bench.Faults)
                throw new SimulationException($"benchmark {bench.Name} took {warm.Totals.Total} faults on the {layout.Name} cluster, not the {bench.Faults} it is built for");
            var meter = new WireMeter();
            MessageSerializer.Meter = meter;
            try
            {
                Run();
            }
            finally
            {
                MessageSerializer.Meter = null;
            }
            wire = new WireFigures(meter.MessagesEncoded, meter.MessagesDecoded, meter.BytesEncoded, meter.EncodeTime, meter.DecodeTime);
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            return null;
        }
        var clusterSeconds = new List<double>();
        var oneNodeSeconds = new List<double>();
        for (var i = 0; i < runs && !interrupt.IsCancellationRequested; i++)
        {
            try
            {
                oneNodeSeconds.Add(Timed(() => oneNode.RunOnce(bench, out _, measureMemory: false, interrupt)));
                clusterSeconds.Add(Timed(() => Run()));
            }
            catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
            {
                break;
            }
        }
        var pairs = Math.Min(clusterSeconds.Count, oneNodeSeconds.Count);
        if (pairs == 0)
            return null;
        return new ClusterBenchResult(layout, bench, pairs, Median(clusterSeconds.Take(pairs)), Median(oneNodeSeconds.Take(pairs)), warm.Messages,
            warm.CrossNodeMessages, oneNodeMessages, wire);
    }

    private static double Timed(Action run)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var clock = Stopwatch.StartNew();
        run();
        return clock.Elapsed.TotalSeconds;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}

using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Placement;
using Faultsim.Host.Cluster;
using Faultsim.Host.Configuration;
using Faultsim.Model.Machine;
using Faultsim.Tests.Actors;
using Faultsim.Tests.Model;
using Faultsim.Tests.Scenarios;

namespace Faultsim.Tests.Host;

/// <summary>
/// Three nodes on loopback (ports the system picks) and a client that submits runs, as faultsim run --cluster does: the
/// parts of the machine live on the nodes of their roles, every message between them crosses through faultsim's
/// serializer, and a race-free workload gives the counts and final memory of the run on one node and of the reference
/// machine; the page loaders are entities of a shard region on the pager nodes. The cluster is formed once for the class; every wait is for a membership event or a reply, bounded.
/// </summary>
public sealed class ClusterRunTests(ClusterRunTests.Cluster cluster) : IClassFixture<ClusterRunTests.Cluster>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90); // a bound, not a wait: a loaded machine may take long

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task A_race_free_run_on_three_nodes_gives_the_counts_and_memory_of_one_node_and_of_the_reference_machine(int cpus)
    {
        for (ulong seed = 1; seed <= 3; seed++)
        {
            var spec = new RunSpec("race-free.conf", RaceFreeWorkloads.Hocon(seed * 104729 + (ulong)cpus, cpus), [$"seed={seed}"]);
            var report = await ClusterRun.RunAsync(cluster.Client, spec, Bound).WaitAsync(Bound);
            var distributed = report.Result!;
            var (settings, workload) = ClusterRun.Load(spec);
            var context = $"seed {seed}, {cpus} CPUs";
            ActorEngineTests.AssertSameCounts(workload.Run(seed), distributed, context + " against the reference machine");
            ActorEngineTests.AssertSameCounts(ActorEngine.Run(workload, settings.Actors, seed, Bound), distributed, context + " against one node");
            Assert.Equal(workload.Run(seed).Memory!.Hash, distributed.Memory!.Hash);
            Assert.Empty(distributed.Violations);

            var nodeOf = distributed.Placement.ToDictionary(p => p.Actor, p => p.Node);
            Assert.Equal(cluster.Client.Address.ToString(), nodeOf["machine"]);
            Assert.Equal(cluster.With(NodeRoles.Memory)[0], nodeOf["memory"]);
            Assert.Equal(cluster.With(NodeRoles.Disk)[0], nodeOf["disk"]);
            Assert.Equal(cluster.With(NodeRoles.Pager)[0], nodeOf["loaders"]);                 // a routing point on each pager node
            Assert.Equal(cluster.With(NodeRoles.Pager)[1], nodeOf["loaders1"]);
            for (var cpu = 0; cpu < cpus; cpu++)
            {
                Assert.Equal(cluster.With(NodeRoles.Cpu)[cpu % 2], nodeOf[$"cpu{cpu}"]);  // the two cpu nodes in turn
                Assert.Equal(nodeOf[$"cpu{cpu}"], nodeOf[$"tlb{cpu}"]);                 // a CPU and its TLB together
            }
            Assert.Equal(3, distributed.Placement.Select(p => p.Node).Distinct().Count() - 1); // every node has a part (and the client the machine)
            Assert.InRange(distributed.CrossNodeMessages, 1, distributed.Messages);
        }
    }

    [Fact]
    public async Task The_loaders_of_a_run_are_entities_of_the_page_loader_shards_spread_over_the_pager_nodes()
    {
        var spec = new RunSpec("race-free.conf", RaceFreeWorkloads.Hocon(77, 4), ["seed=5"]);
        var result = (await ClusterRun.RunAsync(cluster.Client, spec, Bound).WaitAsync(Bound)).Result!;
        var (settings, workload) = ClusterRun.Load(spec);
        ActorEngineTests.AssertSameCounts(workload.Run(5), result, "seed 5, 4 CPUs");
        using var summary = new StringWriter();
        Faultsim.Host.Output.RunSummary.Write(summary, new Faultsim.Host.Running.RunReport(result, null, null, 0, 5), workload, settings, "race-free.conf");
        var lines = summary.ToString().Split('\n').Select(l => l.TrimEnd()).ToList();
        Assert.Contains($"cluster: the parts on 3 nodes, the machine here; {result.CrossNodeMessages:N0} of {result.Messages:N0} messages crossed nodes " +
                        $"({100.0 * result.CrossNodeMessages / result.Messages:F1}%)", lines);
        Assert.Contains($"  {cluster.With(NodeRoles.Disk)[0]}: disk {(cluster.With(NodeRoles.Pager)[0] == cluster.With(NodeRoles.Disk)[0] ? "loaders" : "loaders1")}", lines);
        var shards = new List<int>();
        foreach (var pager in cluster.Nodes.Where(n => n.Roles.Contains(NodeRoles.Pager)))
        {
            var region = Akka.Hosting.ActorRegistry.For(pager.Node.System).Get<ClusterRun.PageLoaderShard>();
            var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, Bound);
            shards.Add(state.Shards.Count);
        }
        Assert.Equal(2, shards.Count);
        Assert.All(shards, count => Assert.True(count > 0, $"a pager node hosts no shard of loaders: {string.Join(", ", shards)}"));
        Assert.True(shards.Sum() <= ClusterRun.LoaderShards);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public async Task The_monitor_checks_a_cluster_run_on_the_events_of_every_node_and_a_race_free_run_holds_every_invariant(int cpus)
    {
        var spec = new RunSpec("race-free.conf", RaceFreeWorkloads.Hocon(31 + (ulong)cpus, cpus), ["seed=2"]);
        var report = await ClusterRun.RunAsync(cluster.Client, spec, Bound, events: true, tail: 1_000_000).WaitAsync(Bound);
        var result = report.Result!;
        var (settings, workload) = ClusterRun.Load(spec);
        ActorEngineTests.AssertSameCounts(workload.Run(2), result, $"{cpus} CPUs against the reference machine");
        Assert.Null(report.Violation);
        Assert.True(result.EventCount > 0 && result.EventCount == report.Log!.Count, $"the run's log has {report.Log!.Count} events, its result {result.EventCount}");
        Assert.Equal(report.Log.Count, report.Log.Tail.Count); // the whole log: every node's events are in it
        var nodeOf = result.Placement.ToDictionary(p => p.Actor, p => p.Node);
        var nodes = report.Log.Tail.Select(e => nodeOf.GetValueOrDefault(e.Actor)).OfType<string>().Distinct().ToList();
        Assert.True(nodes.Count >= 3, $"the log has events of the parts on {string.Join(", ", nodes)} only");
        Assert.Contains(report.Log.Tail, e => e.Event is Faultsim.Model.Checking.SimEvent.FaultDecided && !nodeOf.ContainsKey(e.Actor)); // a sharded loader's
        Assert.True(report.Log.Tail.Zip(report.Log.Tail.Skip(1)).All(p => p.First.TimeNanos <= p.Second.TimeNanos), "the merged log is in time order");
    }

    [Theory]
    [InlineData("cow-after-fork", "cow-ignore-refcount", 3, "a COW write to asid 2/page 0x10000 reused frame 1, which 1 other mapping(s) still share")]
    public async Task A_planted_bug_is_caught_by_the_monitor_on_a_cluster_run_and_the_same_workload_is_clean_without_it(string scenario, string bug, int invariant, string message)
    {
        var (origin, text) = Faultsim.Host.Scenarios.ScenarioCatalog.File(scenario);
        var clean = await ClusterRun.RunAsync(cluster.Client, new RunSpec(origin, text!, ["seed=1"]), Bound, events: true).WaitAsync(Bound);
        Assert.Null(clean.Violation);
        Assert.Empty(clean.Result!.Violations);

        var planted = await ClusterRun.RunAsync(cluster.Client, new RunSpec(origin, text!, ["seed=1", $"bugs.{bug}=true"]), Bound, events: true).WaitAsync(Bound);
        var violation = Assert.IsType<Faultsim.Model.Checking.Violation>(planted.Violation);
        Assert.Equal(invariant, violation.Invariant);
        Assert.StartsWith(message, violation.Description);
        var at = planted.Log!.Tail.Single(e => e.Seq == violation.AtEvent);
        Assert.DoesNotContain(planted.Result!.Placement, p => p.Actor == at.Actor); // recorded by a loader, an entity of a pager node's shard
    }

    [Fact]
    public void Parts_are_placed_by_role_and_a_role_no_node_has_is_refused_naming_it()
    {
        var parts = new[] { new Part(PartKind.Memory, 0), new Part(PartKind.Cpu, 0) };
        var hosts = cluster.Hosts.Where(h => !h.Roles.Contains(NodeRoles.Memory)).ToList();
        var error = Assert.Throws<ClusterUnavailableException>(() => ClusterRun.Place(parts, hosts));
        Assert.StartsWith("the cluster has no node with the role 'memory' up (its faultsim nodes: ", error.Message);
        Assert.EndsWith("start one whose faultsim.cluster.node.roles has memory (see config/cluster/)", error.Message);
    }

    [Fact]
    public void A_cluster_config_that_binds_akkas_json_serializer_to_system_object_is_refused_at_its_line()
    {
        var text = "faultsim.cluster.seed-nodes = [\"127.0.0.1:4053\"]\nakka.actor.serialization-bindings {\n  \"System.Object\" = json\n}\n";
        var error = Assert.Throws<ConfigException>(() => NodeSettings.From(ConfigLoader.LoadText(("cluster.conf", text), [])));
        Assert.Equal("cluster.conf:3: binds System.Object to Akka's JSON serializer (json), which would load any type a peer names; " +
                     "remove the binding: faultsim's own serializer carries every message between nodes", error.Message);
    }

    /// <summary>Nodes [cpu, memory], [cpu, pager], [disk, pager] with their hosts, and a client: a cluster up.</summary>
    public sealed class Cluster : IAsyncLifetime
    {
        private readonly List<ClusterNode> _nodes = [];

        public ClusterNode Client { get; private set; } = null!;

        /// <summary>The nodes with their roles.</summary>
        public IEnumerable<(ClusterNode Node, string[] Roles)> Nodes => _nodes.Zip(RoleSets);

        private static readonly string[][] RoleSets = [[NodeRoles.Cpu, NodeRoles.Memory], [NodeRoles.Cpu, NodeRoles.Pager], [NodeRoles.Disk, NodeRoles.Pager]];

        /// <summary>The hosts the client found, in address order.</summary>
        public ImmutableArray<ClusterRun.NodeHost> Hosts { get; private set; }

        /// <summary>The addresses of the nodes with <paramref name="role"/>, in address order (the order placement takes them in).</summary>
        public IReadOnlyList<string> With(string role) =>
            [.. Hosts.Where(h => h.Roles.Contains(role)).Select(h => h.Address.ToString()).Order(StringComparer.Ordinal)];

        public async Task InitializeAsync()
        {
            var settings = ClusterNodeTests.Settings("faultsim.cluster.down-unreachable-after = 5s");
            foreach (var r in RoleSets)
                _nodes.Add(await ClusterRun.StartNodeAsync(settings, r, port: 0));
            Client = await ClusterNode.StartAsync(settings, [NodeRoles.Client], port: 0);
            foreach (var node in _nodes.Append(Client))
                node.Join(_nodes[0].Address);
            foreach (var node in _nodes.Append(Client))
                Assert.True(await node.WaitUpAsync(Bound), $"{node.Address} did not come up");
            await ClusterNodeTests.Members(Client, 4).WaitAsync(Bound); // the client sees every node up
            Hosts = await ClusterRun.FindHostsAsync(Client).WaitAsync(Bound);
            Assert.Equal(3, Hosts.Length);
        }

        public async Task DisposeAsync()
        {
            if (Client is not null)
                await Client.DisposeAsync();
            foreach (var node in _nodes)
                await node.DisposeAsync();
        }
    }
}

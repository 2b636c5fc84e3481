using System.Diagnostics;
using Akka;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Remote;
using Akka.Remote.Transport;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Paging;
using Faultsim.Actors.Placement;
using Faultsim.Host.Cluster;
using Faultsim.Tests.Actors;
using Faultsim.Tests.Model;
using Faultsim.Tests.Scenarios;

namespace Faultsim.Tests.Host;

/// <summary>
/// A node of a cluster run lost mid-run, on loopback (ports the system picks): nodes [cpu, memory, disk], [pager],
/// [pager] and a client, formed afresh for each test. A pager node that leaves gracefully hands its loaders off and the run
/// completes with the reference machine's counts; a pager node killed, or a node holding a part that cannot move, ends
/// the run within the stated bound (<see cref="ClusterRun.LossBound"/>) with one line naming the node, its parts and
/// the loads in flight; a TLB whose wait for a lost load runs out before the node is downed names the node too. "Mid-run" is made to happen by a hook on the loads a node's loaders start: at the Nth, the
/// test makes the node leave or kills it, and holds (or drops) that load until then, so the run cannot end first. A kill
/// cuts the node off (Akka.Remote's throttler blackholes it both ways) and terminates its actor system without leaving:
/// the others see it unreachable, and the split-brain resolver downs it. Every wait is for a membership event, a signal
/// or a reply, bounded.
/// </summary>
public sealed class NodeLossTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90); // a bound, not a wait: a loaded machine may take long
    private static readonly TimeSpan DownAfter = TimeSpan.FromSeconds(2);
    private const int NthLoad = 3;

    private static readonly string[][] RoleSets = [[NodeRoles.Cpu, NodeRoles.Memory, NodeRoles.Disk], [NodeRoles.Pager], [NodeRoles.Pager]];

    private readonly List<(ClusterNode Node, string[] Roles, LoadHook Hook)> _nodes = [];
    private ClusterNode _client = null!;

    public Task InitializeAsync() => FormAsync(DownAfter);

    /// <summary>Forms the nodes and the client, with the split-brain resolver downing an unreachable member after <paramref name="downAfter"/>.</summary>
    private async Task FormAsync(TimeSpan downAfter)
    {
        var settings = ClusterNodeTests.Settings($"faultsim.cluster.down-unreachable-after = {downAfter.TotalSeconds}s");
        foreach (var roles in RoleSets)
        {
            var hook = new LoadHook();
            var node = await ClusterRun.StartNodeAsync(settings, roles, port: 0, loadStarting: hook.Starting, configure: Killable);
            _nodes.Add((node, roles, hook));
        }
        _client = await ClusterNode.StartAsync(settings, [NodeRoles.Client], port: 0, configure: Killable);
        var everyone = _nodes.Select(n => n.Node).Append(_client).ToList();
        foreach (var node in everyone)
            node.Join(_nodes[0].Node.Address);
        foreach (var node in everyone)
            Assert.True(await node.WaitUpAsync(Bound), $"{node.Address} did not come up");
        await ClusterNodeTests.Members(_client, everyone.Count).WaitAsync(Bound);
        await RegionsRegisteredAsync().WaitAsync(Bound);
    }

    /// <summary>
    /// Until the shard coordinator knows both pager nodes' regions (each registers once it finds the coordinator), new
    /// shards go to those it knows; a test that makes one leave needs shards on both. Each probe waits for its answer.
    /// </summary>
    private async Task RegionsRegisteredAsync()
    {
        var pagers = Pagers.Select(p => p.Node.Address).ToHashSet();
        var region = ActorRegistry.For(Pagers[0].Node.System).Get<ClusterRun.PageLoaderShard>();
        while (!pagers.IsSubsetOf((await region.Ask<CurrentRegions>(GetCurrentRegions.Instance, Bound)).Regions
                   .Select(a => a.HasLocalScope ? Pagers[0].Node.Address : a)))
        {
        }
    }

    public async Task DisposeAsync()
    {
        if (_client is not null)
            await _client.DisposeAsync();
        foreach (var (node, _, _) in _nodes)
            await node.DisposeAsync();
        foreach (var node in _nodes.Select(n => n.Node).Append(_client).OfType<ClusterNode>())
            Assert.True(node.Terminated.IsCompleted, $"{node.Address} is still running"); // no actor system is left behind
        _nodes.Clear();
    }

    /// <summary>
    /// What a kill needs: Akka.Remote's throttler under the transport (its blackhole cuts a node off from every peer, both
    /// ways), and termination that runs no coordinated shutdown (no leave).
    /// </summary>
    private static void Killable(AkkaConfigurationBuilder akka) => akka.AddHocon("""
        akka.remote.dot-netty.tcp.applied-adapters = [trttl]
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        """, HoconAddMode.Prepend);

    /// <summary>
    /// Kills <paramref name="node"/> as a crash or a cut cable would: first nothing it sends reaches a peer, nor anything a
    /// peer sends it (so neither its actors' stops nor a leave are heard), then its system stops. The others see it
    /// unreachable, and the split-brain resolver downs it after down-unreachable-after.
    /// </summary>
    private async Task KillAsync(ClusterNode node)
    {
        var transport = ((RemoteActorRefProvider)((ExtendedActorSystem)node.System).Provider).Transport;
        foreach (var peer in _nodes.Select(n => n.Node).Append(_client).Where(n => n != node))
            Assert.True(await transport.ManagementCommand(new SetThrottle(peer.Address, ThrottleTransportAdapter.Direction.Both, Blackhole.Instance)));
        await node.System.Terminate();
    }

    /// <summary>The pager nodes in address order: placement puts the routing point the directory names (loaders) on the first.</summary>
    private List<(ClusterNode Node, string[] Roles, LoadHook Hook)> Pagers =>
        [.. _nodes.Where(n => n.Roles.Contains(NodeRoles.Pager)).OrderBy(n => n.Node.Address.ToString(), StringComparer.Ordinal)];

    private (ClusterNode Node, string[] Roles, LoadHook Hook) Fixed => _nodes[0];

    private static RunSpec Spec(ulong seed, int cpus, params string[] overrides) =>
        new("race-free.conf", RaceFreeWorkloads.Hocon(seed * 104729 + (ulong)cpus, cpus), [$"seed={seed}", .. overrides]);

    private static void AssertReferenceCounts(RunSpec spec, Faultsim.Model.Machine.RunResult result, string context)
    {
        var (settings, workload) = ClusterRun.Load(spec);
        var seed = settings.Seed;
        ActorEngineTests.AssertSameCounts(workload.Run(seed), result, context + " against the reference machine");
        ActorEngineTests.AssertSameCounts(ActorEngine.Run(workload, settings.Actors, seed, Bound), result, context + " against one node");
        Assert.Equal(workload.Run(seed).Memory!.Hash, result.Memory!.Hash);
    }

    [Theory]
    [InlineData(0, 1UL, 2)] // the pager node of the routing point the directory names: memory and the mms move to the other
    [InlineData(1, 2UL, 2)] // the other pager node
    [InlineData(0, 3UL, 4)]
    public async Task A_pager_node_that_leaves_gracefully_mid_run_hands_its_loaders_off_and_the_run_completes_with_the_reference_counts(int pager, ulong seed, int cpus)
    {
        var (target, _, hook) = Pagers[pager];
        var leavingBegun = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var shutdown = CoordinatedShutdown.Get(target.System);
        shutdown.AddTask(CoordinatedShutdown.PhaseBeforeClusterShutdown, "test-leaving", () =>
        {
            leavingBegun.TrySetResult(); // beside the node's own task, which tells the runs it is leaving
            return Task.FromResult(Done.Instance);
        });
        shutdown.AddTask(CoordinatedShutdown.PhaseClusterShardingShutdownRegion, "test-released", () =>
        {
            released.TrySetResult(); // the runs released the node: its shards hand off now
            return Task.FromResult(Done.Instance);
        });
        var loads = 0;
        ResolveFault? held = null;
        Task? leaving = null;
        var heldBeforeRelease = false;
        hook.OnLoad = fault =>
        {
            if (Interlocked.Increment(ref loads) != NthLoad)
                return true;
            held = fault;
            leaving = Task.Run(target.LeaveAsync);
            // The load is held until the node has begun to leave: the run cannot let the node go while it is in flight, so it
            // finishes there, and only then do the node's shards hand off.
            leavingBegun.Task.Wait(Bound);
            heldBeforeRelease = !released.Task.IsCompleted;
            return true;
        };
        var spec = Spec(seed, cpus);
        var result = (await ClusterRun.RunAsync(_client, spec, Bound).WaitAsync(Bound)).Result!;

        Assert.True(held is not null, $"the pager node started {loads} loads, fewer than {NthLoad}: the workload does not reach it");
        Assert.True(released.Task.IsCompleted);
        Assert.True(heldBeforeRelease, "the node's shards began to hand off while a load was in flight on it");
        AssertReferenceCounts(spec, result, $"seed {seed}, {cpus} CPUs, pager node {pager} left at its load {NthLoad}");
        var left = Assert.Single(result.NodesLeft);
        Assert.Equal(target.Address.ToString(), left.Node);
        Assert.StartsWith($"left mid-run; its {(pager == 0 ? "loaders" : "loaders1")} retired", left.What);
        Assert.Empty(result.Violations);
        await leaving!.WaitAsync(Bound);
        await target.Terminated.WaitAsync(Bound);
        Assert.False(target.Downed);

        // The cluster goes on with one pager node, which now holds every shard of the page loaders.
        var again = Spec(seed + 10, cpus);
        var after = (await ClusterRun.RunAsync(_client, again, Bound).WaitAsync(Bound)).Result!;
        AssertReferenceCounts(again, after, "the run after the leave");
        var survivor = Pagers.Single(p => p.Node != target).Node;
        Assert.All(after.Placement.Where(p => p.Actor.StartsWith("loaders", StringComparison.Ordinal)), p => Assert.Equal(survivor.Address.ToString(), p.Node));
        var state = await ActorRegistry.For(survivor.System).Get<ClusterRun.PageLoaderShard>().Ask<CurrentShardRegionState>(GetShardRegionState.Instance, Bound);
        Assert.NotEmpty(state.Shards);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task A_pager_node_killed_mid_run_ends_the_run_within_the_bound_naming_the_node_its_parts_and_the_load_in_flight(int pager)
    {
        var (target, _, hook) = Pagers[pager];
        var unreachable = Membership.WhenAsync(_client, view => view.Members.Any(m => m.Address == target.Address && view.IsUnreachable(m)));
        var loads = 0;
        ResolveFault? held = null;
        var since = new Stopwatch();
        hook.OnLoad = fault =>
        {
            if (Interlocked.Increment(ref loads) != NthLoad)
                return true;
            held = fault;
            since.Start();
            _ = Task.Run(() => KillAsync(target));
            return false; // the load is lost with its node
        };
        var spec = Spec(4, 2, "actors.wait-bound=60s"); // the TLB waiting on the lost load does not give up first
        var error = await Assert.ThrowsAsync<ClusterUnavailableException>(() => ClusterRun.RunAsync(_client, spec, Bound).WaitAsync(Bound));
        since.Stop();

        Assert.NotNull(held);
        await unreachable.WaitAsync(Bound); // a kill: the others saw it unreachable (then the split-brain resolver downed it)
        Assert.StartsWith($"node {target.Address} was lost mid-run with {(pager == 0 ? "loaders" : "loaders1")} and its shards of the page loaders: " +
                          "the loads in flight there are lost; the CPUs then waiting on a fault: ", error.Message);
        Assert.Contains($"{held!.Cpu} ({held.Id} on {held.Page}, for ", error.Message);
        Assert.EndsWith("; the run ended", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.True(since.Elapsed < ClusterRun.LossBound(DownAfter), $"the loss was reported after {since.Elapsed}, past its bound {ClusterRun.LossBound(DownAfter)}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_node_with_parts_that_cannot_move_lost_mid_run_ends_the_run_within_the_bound_naming_the_node_and_its_parts(bool kill)
    {
        var (target, _, _) = Fixed;
        var hook = Pagers[0].Hook;
        var unreachable = Membership.WhenAsync(_client, view => view.Members.Any(m => m.Address == target.Address && view.IsUnreachable(m)));
        var removed = Membership.WhenAsync(_client, view => view.Members.All(m => m.Address != target.Address));
        var loads = 0;
        var since = new Stopwatch();
        hook.OnLoad = fault =>
        {
            if (Interlocked.Increment(ref loads) != NthLoad)
                return true;
            since.Start();
            _ = kill ? Task.Run(() => KillAsync(target)) : Task.Run(() => target.LeaveAsync());
            target.Terminated.Wait(Bound); // the load goes on once the node is gone: the run cannot end before
            return true;
        };
        var spec = Spec(5, 2, "actors.wait-bound=60s");
        var error = await Assert.ThrowsAsync<ClusterUnavailableException>(() => ClusterRun.RunAsync(_client, spec, Bound).WaitAsync(Bound));
        since.Stop();

        Assert.True(loads >= NthLoad);
        if (kill)
            await unreachable.WaitAsync(Bound); // a kill: the others saw it unreachable (then the split-brain resolver downed it)
        await removed.WaitAsync(Bound);
        var (settings, workload) = ClusterRun.Load(spec);
        var expected = string.Join(", ", new MachineParts(workload, settings.Actors, settings.Seed).All
            .Where(p => p.Kind != PartKind.Loaders).OrderBy(p => p.Kind).ThenBy(p => p.Index).Select(p => p.Name)); // memory, disk, tlb0, tlb1, mm1, …, cpu0, cpu1
        Assert.Equal($"node {target.Address} {(kill ? "was lost" : "is leaving the cluster")} mid-run with {expected}: {expected} cannot move to another node; the run ended",
            error.Message);
        Assert.True(since.Elapsed < ClusterRun.LossBound(DownAfter), $"the loss was reported after {since.Elapsed}, past its bound {ClusterRun.LossBound(DownAfter)}");
    }

    [Fact]
    public async Task A_tlb_that_gives_up_on_a_load_of_a_killed_pager_node_not_yet_downed_ends_the_run_as_that_nodes_loss()
    {
        await DisposeAsync();
        await FormAsync(TimeSpan.FromMinutes(5)); // not downed while the test runs: the TLB's wait bound (10 s) comes first
        var (target, _, hook) = Pagers[1];
        var loads = 0;
        ResolveFault? held = null;
        hook.OnLoad = fault =>
        {
            if (Interlocked.Increment(ref loads) != NthLoad)
                return true;
            held = fault;
            _ = Task.Run(() => KillAsync(target));
            return false; // the load is lost with its node
        };
        var spec = Spec(6, 2);
        Exception error;
        try
        {
            error = await Assert.ThrowsAsync<ClusterUnavailableException>(() => ClusterRun.RunAsync(_client, spec, Bound).WaitAsync(Bound));
        }
        finally
        {
            _client.Cluster.Down(target.Address); // the others may leave now (an unreachable member stops them converging)
        }

        Assert.NotNull(held);
        // Every load routed to the node's shards is lost until it is downed: the first TLB whose wait ran out names it.
        Assert.StartsWith($"node {target.Address} became unreachable mid-run with loaders1 and its shards of the page loaders: protocol stuck: tlb", error.Message);
        Assert.Contains(" waited more than 10 s in state AwaitingTranslation ", error.Message);
        Assert.Contains(", while the node was unreachable (not yet downed); ", error.Message);
        Assert.EndsWith("; the run ended", error.Message);
    }

    /// <summary>What a node's loaders call when they start a load: the test's <see cref="OnLoad"/>, if any.</summary>
    private sealed class LoadHook
    {
        public volatile Func<ResolveFault, bool>? OnLoad;

        public bool Starting(ResolveFault fault) => OnLoad?.Invoke(fault) ?? true;
    }
}

using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Faultsim.Actors;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Telemetry;
using Faultsim.Host.Cluster;
using Faultsim.Host.Configuration;
using Faultsim.Model.Addressing;
using Faultsim.Model.Tlbs;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Host;

/// <summary>
/// Three nodes in one process, on loopback with ports the system picks: they form a cluster with their roles, a message
/// crosses between them through faultsim's serializer with its trace, and a node that leaves is removed from the others'
/// view. Every wait is for a membership event, bounded.
/// </summary>
public sealed class ClusterNodeTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60); // a bound, not a wait: a loaded machine may take long
    private readonly List<ClusterNode> _nodes = [];

    public static NodeSettings Settings(params string[] lines) =>
        NodeSettings.From(ConfigLoader.LoadText(("test.conf", string.Join('\n', lines)), []));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
            await node.DisposeAsync();
    }

    private async Task<ClusterNode[]> FormAsync(params string[][] roles)
    {
        var settings = Settings("faultsim.cluster.down-unreachable-after = 2s");
        foreach (var r in roles)
            _nodes.Add(await ClusterNode.StartAsync(settings, r, port: 0));
        foreach (var node in _nodes)
            node.Join(_nodes[0].Address);   // the first joins itself: no seed list is needed with ports unknown in advance
        foreach (var node in _nodes)
            Assert.True(await node.WaitUpAsync(Bound), $"{node.Address} did not come up");
        return [.. _nodes];
    }

    [Fact]
    public async Task Three_nodes_on_loopback_form_a_cluster_with_their_roles_and_a_message_crosses_with_its_trace()
    {
        var nodes = await FormAsync([NodeRoles.Cpu, NodeRoles.Memory], [NodeRoles.Pager], [NodeRoles.Disk]);
        Assert.Equal(3, nodes.Select(n => n.Address.Port).Distinct().Count());
        var members = (await Members(nodes[0], 3).WaitAsync(Bound)).Members.ToList();
        Assert.Equal(["cpu,memory", "pager", "disk"], nodes.Select(n => string.Join(",", members.Single(m => m.Address == n.Address).Roles.Order())));

        var echo = nodes[1].System.ActorOf(Props.Create(() => new Echo()), "echo");
        var remoteEcho = await nodes[0].System.ActorSelection(new RootActorPath(nodes[1].Address) / "user" / "echo").ResolveOne(Bound);
        Assert.Equal(nodes[1].Address, remoteEcho.Path.Address);
        var trace = new TraceContext(0x0af7651916cd43dd, 0x8448eb211c80319c, 0xb7ad6b7169203331);
        var walk = new Walk(new FaultId(3), new CpuId(2), new VirtualAddress(0x4000_0000), AccessKind.Read, AccessMode.User, new VirtualAddress(0x7fff_0000), false, trace, 5);
        var back = await remoteEcho.Ask<Walk>(walk, Bound);
        Assert.NotSame(walk, back);      // it was serialized both ways
        Assert.Equal(walk, back);
        echo.Tell(PoisonPill.Instance);
    }

    [Fact]
    public async Task A_node_that_leaves_gracefully_is_removed_and_the_others_stay_up()
    {
        var nodes = await FormAsync([NodeRoles.Cpu], [NodeRoles.Pager], [NodeRoles.Memory, NodeRoles.Disk]);
        await Members(nodes[0], 3).WaitAsync(Bound);
        var removed = Removed(nodes[0], nodes[2].Address);
        await nodes[2].LeaveAsync();
        await nodes[2].Terminated.WaitAsync(Bound);
        var view = await removed.WaitAsync(Bound);
        Assert.Equal(2, view.Members.Count(m => m.Status == MemberStatus.Up));
    }

    /// <summary>Completes when <paramref name="node"/> sees <paramref name="count"/> members Up.</summary>
    internal static Task<MembershipView> Members(ClusterNode node, int count) => Watch(node, view => view.Members.Count(m => m.Status == MemberStatus.Up) == count);

    /// <summary>Completes when <paramref name="node"/> has removed <paramref name="address"/>.</summary>
    private static Task<MembershipView> Removed(ClusterNode node, Address address) =>
        Watch(node, view => view.Members.All(m => m.Address != address));

    private static Task<MembershipView> Watch(ClusterNode node, Func<MembershipView, bool> done) => Membership.WhenAsync(node, done);

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(message => Sender.Tell(message));
    }
}

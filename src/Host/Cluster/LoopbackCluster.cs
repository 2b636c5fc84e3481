using System.Collections.Immutable;
using Akka.Cluster;
using Akka.Hosting;

namespace Faultsim.Host.Cluster;

/// <summary>
/// A cluster of faultsim nodes in this process, on 127.0.0.1 with ports the system picks, and a client member that
/// submits runs (as `faultsim run --cluster` does): what `faultsim bench --cluster` times. The first node joins itself,
/// the others and the client join it; it is ready once the client finds every node's host. Disposing it stops the
/// client and the nodes (each leaves the cluster).
/// </summary>
public sealed class LoopbackCluster : IAsyncDisposable
{
    private readonly List<ClusterNode> _nodes = [];

    private LoopbackCluster(IReadOnlyList<string[]> roles) => Roles = [.. roles.Select(r => string.Join(",", r))];

    /// <summary>Each node's roles, in the order they were started.</summary>
    public ImmutableArray<string> Roles { get; }

    public IReadOnlyList<ClusterNode> Nodes => _nodes;

    public ClusterNode Client { get; private set; } = null!;

    /// <summary>The nodes' hosts as the client found them, in address order.</summary>
    public ImmutableArray<ClusterRun.NodeHost> Hosts { get; private set; }

    /// <summary>The settings of a loopback node: a cluster of its own name, no seeds (nodes join the first), 127.0.0.1.</summary>
    public static NodeSettings Settings(string name, TimeSpan downUnreachableAfter) =>
        new(name, [], downUnreachableAfter, TimeSpan.FromSeconds(30), "127.0.0.1", null, 0, []);

    /// <summary>Starts a node of each of <paramref name="roles"/>, and the client; throws <see cref="ClusterUnavailableException"/> when they are not all up within <paramref name="bound"/>.</summary>
    /// <param name="quiet">Akka's log off on every member: its shutdown logs each peer's disassociation as an error.</param>
    public static async Task<LoopbackCluster> StartAsync(NodeSettings settings, IReadOnlyList<string[]> roles, TimeSpan bound, bool quiet = false)
    {
        void Quiet(AkkaConfigurationBuilder akka)
        {
            if (quiet)
                akka.AddHocon("akka.loglevel = OFF", HoconAddMode.Prepend);
        }

        var cluster = new LoopbackCluster(roles);
        try
        {
            foreach (var r in roles)
                cluster._nodes.Add(await ClusterRun.StartNodeAsync(settings, r, port: 0, configure: Quiet).ConfigureAwait(false));
            cluster.Client = await ClusterNode.StartAsync(settings, [NodeRoles.Client], port: 0, configure: Quiet).ConfigureAwait(false);
            var everyone = cluster._nodes.Append(cluster.Client).ToList();
            foreach (var node in everyone)
                node.Join(cluster._nodes[0].Address);
            foreach (var node in everyone)
            {
                if (!await node.WaitUpAsync(bound).ConfigureAwait(false))
                    throw new ClusterUnavailableException($"the loopback node {node.Address} was not let into the cluster within {bound.TotalSeconds:0}s");
            }
            var seen = Membership.WhenAsync(cluster.Client, view => view.Members.Count(m => m.Status == MemberStatus.Up) == everyone.Count);
            if (await Task.WhenAny(seen, Task.Delay(bound)).ConfigureAwait(false) != seen)
                throw new ClusterUnavailableException($"the loopback client did not see the {everyone.Count} members up within {bound.TotalSeconds:0}s");
            cluster.Hosts = await ClusterRun.FindHostsAsync(cluster.Client).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Client is not null)
            await Client.DisposeAsync().ConfigureAwait(false);
        foreach (var node in _nodes)
            await node.DisposeAsync().ConfigureAwait(false);
    }
}

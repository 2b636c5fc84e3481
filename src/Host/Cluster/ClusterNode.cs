using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Faultsim.Actors;
using Faultsim.Actors.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Faultsim.Host.Cluster;

/// <summary>
/// One member of a faultsim cluster, wired the Akka.Hosting way: remoting on the node's address, clustering with its roles
/// and seed nodes, the split-brain resolver (keep-majority) downing an unreachable member after
/// <see cref="NodeSettings.DownUnreachableAfter"/>, distributed data kept in memory only, and faultsim's serializer for
/// every message. Stopping it leaves the cluster gracefully, through coordinated shutdown.
/// </summary>
public sealed class ClusterNode : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly TaskCompletionSource _up = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopped;

    private ClusterNode(IHost host)
    {
        _host = host;
        System = host.Services.GetRequiredService<ActorSystem>();
        Cluster = Akka.Cluster.Cluster.Get(System);
        Cluster.RegisterOnMemberUp(() => _up.TrySetResult());
    }

    public ActorSystem System { get; }

    public Akka.Cluster.Cluster Cluster { get; }

    /// <summary>The node's own address (with the port it got, when it asked for any).</summary>
    public Address Address => Cluster.SelfAddress;

    /// <summary>Whether the system stopped because the cluster downed this node, rather than because it left (was stopped).</summary>
    public bool Downed => CoordinatedShutdown.Get(System).ShutdownReason is CoordinatedShutdown.ClusterDowningReason;

    /// <summary>Completes when the system has terminated: after a graceful leave, or when the cluster downed this node.</summary>
    public Task Terminated => System.WhenTerminated;

    /// <summary>The settings of the node's actor system, over Akka's defaults.</summary>
    public static Config Hocon(NodeSettings settings) => ConfigurationFactory.ParseString($$"""
        akka {
          loglevel = WARNING
          stdout-loglevel = OFF
          loggers = ["{{StandardErrorLogger.TypeName}}"]
          log-dead-letters = off
          log-dead-letters-during-shutdown = off
          cluster {
            log-info = off
            split-brain-resolver.stable-after = {{(long)settings.DownUnreachableAfter.TotalMilliseconds}}ms
            distributed-data.durable.keys = []
          }
          coordinated-shutdown.phases.before-cluster-shutdown.timeout = 15s # the runs release a leaving node's parts (ClusterRun.ReleaseBound)
          remote.dot-netty.tcp {
            maximum-frame-size = 16MiB
            send-buffer-size = 32MiB
            receive-buffer-size = 32MiB
          }
        }
        """);

    /// <summary>
    /// Starts a node with <paramref name="roles"/> (its own or <see cref="NodeRoles.Client"/>) on <paramref name="port"/>
    /// (the settings' when null). It joins the seed nodes; with none, call <see cref="Join"/>.
    /// </summary>
    /// <param name="actors">Starts the node's own actors once the system is up.</param>
    /// <param name="configure">Adds to the node's wiring (its shard regions).</param>
    public static async Task<ClusterNode> StartAsync(NodeSettings settings, IReadOnlyList<string> roles, int? port = null,
        Action<ActorSystem, IActorRegistry>? actors = null, Action<AkkaConfigurationBuilder>? configure = null)
    {
        var builder = new HostBuilder().ConfigureServices(services => services.AddAkka(settings.Name, akka =>
        {
            akka.AddHocon(Hocon(settings), HoconAddMode.Prepend)
                .WithRemoting(new RemoteOptions
                {
                    HostName = settings.Hostname,
                    PublicHostName = settings.PublicHostname,
                    Port = port ?? settings.Port,
                })
                .WithClustering(new ClusterOptions
                {
                    Roles = [.. roles],
                    SeedNodes = [.. settings.SeedNodes],
                    SplitBrainResolver = new KeepMajorityOption(),
                })
                .WithCustomSerializer("faultsim", [typeof(ISimulationMessage)], system => new MessageSerializer(system));
            configure?.Invoke(akka);
            if (actors is not null)
                akka.WithActors(actors);
        }));
        var host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        return new ClusterNode(host);
    }

    /// <summary>Joins the cluster <paramref name="address"/> belongs to (its own address: starts a new cluster).</summary>
    public void Join(Address address) => Cluster.Join(address);

    /// <summary>Whether this node became an Up member within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitUpAsync(TimeSpan timeout) =>
        await Task.WhenAny(_up.Task, Task.Delay(timeout), System.WhenTerminated).ConfigureAwait(false) == _up.Task;

    /// <summary>Leaves the cluster gracefully (coordinated shutdown: hand-offs, leave, exit) and stops the system.</summary>
    public async Task LeaveAsync()
    {
        if (_stopped)
            return;
        _stopped = true;
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(bound.Token).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await LeaveAsync().ConfigureAwait(false);
        _host.Dispose();
    }
}

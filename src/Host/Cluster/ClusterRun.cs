using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Faultsim.Actors;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Monitoring;
using Faultsim.Actors.Paging;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Cluster.Sharding;
using Faultsim.Actors.Placement;
using Faultsim.Host.Configuration;
using Faultsim.Host.Running;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Cluster;

/// <summary>A cluster cannot take a run: no member of a role the run needs is up, or a member's host never answered.</summary>
public sealed class ClusterUnavailableException(string message) : Exception(message);

/// <summary>
/// A run on a cluster (faultsim run --cluster). The submitting process is a client member: its machine actor drives the
/// run, and each part of the machine is created on a node of the part's role — the CPUs with their TLBs and the address
/// spaces on <c>cpu</c> nodes (CPU i and TLB i on the same node, spread round-robin), memory on a <c>memory</c> node, the
/// disk on a <c>disk</c> node, the loaders on a <c>pager</c> node — by that node's <see cref="NodeHostActor"/>, which
/// rebuilds the run from its spec. Every message between them crosses through faultsim's serializer, and the result is
/// gathered from the parts' reports as on one node.
/// </summary>
public static class ClusterRun
{
    /// <summary>How long the submitting machine waits for the nodes' hosts to answer before it gives up.</summary>
    private static readonly TimeSpan IdentifyTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The settings and workload of <paramref name="spec"/>, as every node reads them: a cluster run is live, on the actor engine.</summary>
    public static (SimSettings Settings, Workload Workload) Load(RunSpec spec)
    {
        var loaded = ConfigLoader.LoadText(spec.Origin.Length == 0 ? null : (spec.Origin, spec.Text), [.. spec.Overrides, "mode=live"]);
        var settings = SimSettings.From(loaded, _ => null); // the nodes' environment is not the submitter's: nothing read from it
        if (settings.Engine != MachineActor.EngineName)
            throw new ConfigException(spec.Origin.Length == 0 ? "--engine" : spec.Origin, null,
                "a cluster run runs the actor engine; drop engine = reference (or --engine reference) to run on a cluster");
        return (settings, settings.Workload);
    }

    /// <summary>
    /// A node's <see cref="PartsOf"/>: the run rebuilt from its spec, with the settings its machine gave its own parts,
    /// its loaders' routing point in front of the node's shard region (<paramref name="region"/>, on a pager node).
    /// </summary>
    public static MachineParts PartsOf(string run, RunSpec spec, CrossNodeTraffic traffic, LoaderRuns runs, IActorRef? region, EventLog? events = null)
    {
        var (settings, workload) = Load(spec);
        var engine = ActorEngine.Prepare(workload, WithEvents(WithTraffic(settings.Actors, traffic), events), settings.Seed);
        return new MachineParts(workload, engine, settings.Seed,
            loaders: region is null ? null : (context, seed) => ShardedLoaders.Props(run, region, runs, context, seed));
    }

    private static EngineSettings WithTraffic(EngineSettings engine, CrossNodeTraffic traffic) =>
        engine with { Run = engine.Run with { Traffic = traffic } };

    private static EngineSettings WithEvents(EngineSettings engine, EventLog? events) =>
        engine with { Run = engine.Run with { Events = events } };

    /// <summary>Runs <paramref name="spec"/> from <paramref name="client"/> (a member of the cluster, up) on the nodes of the roles its parts need.</summary>
    /// <param name="rule">Where the parts go on the nodes of their roles (<see cref="Place"/>).</param>
    /// <param name="captureMemory">Whether the result carries the final memory (a benchmark's runs leave it out, as on one node).</param>
    /// <param name="events">
    /// Whether the run keeps its event log (`run --cluster` does; a benchmark does not): every node's parts record their
    /// events, stamped by the node's monotonic clock, and keep them until the run has ended; the machine's own are kept
    /// here. Then every node is asked for its events, all are merged by time into the report's log, and its invariant
    /// monitor checks them, and the final memory, as on one node. The stamps compare on one machine (a loopback
    /// cluster); across machines the merge is only as good as their clocks.
    /// </param>
    /// <param name="tail">The events the report's log keeps in memory (for a violation's report).</param>
    public static async Task<RunReport> RunAsync(ClusterNode client, RunSpec spec, TimeSpan timeout, CancellationToken interrupt = default,
        PlacementRule rule = PlacementRule.Spread, bool captureMemory = true, bool events = false, int tail = EventLog.DefaultTail)
    {
        spec = spec with { Events = events };
        var (settings, workload) = Load(spec);
        var hosts = await FindHostsAsync(client, interrupt).ConfigureAwait(false);
        var parts = new MachineParts(workload, settings.Actors, settings.Seed);
        var reachability = client.System.ActorOf(Props.Create(() => new ReachabilityWatch()));
        var placement = new ClusterPlacement(Guid.NewGuid().ToString("N"), spec, Place(parts.All, hosts, rule), client.Address.ToString(), reachability);
        var own = events ? new NodeEventBuffer() : null;
        var engine = WithEvents(WithTraffic(settings.Actors, new CrossNodeTraffic()), own?.Log) with { Placement = placement, CaptureMemory = captureMemory };
        Faultsim.Model.Machine.RunResult result;
        try
        {
            result = await Task.Run(() => ActorEngine.Run(client.System, workload, engine, settings.Seed, timeout, captureMemory, interrupt: interrupt), interrupt)
                .ConfigureAwait(false);
        }
        catch (NodeLostException lost)
        {
            throw new ClusterUnavailableException(lost.Message);
        }
        finally
        {
            client.System.Stop(reachability);
        }
        if (own is null)
            return new RunReport(result, null, null, 0, settings.Seed);
        if (!result.NodesLeft.IsEmpty) // a node that left took its events with it: there is no whole log to check
            return new RunReport(result, null, null, 0, settings.Seed);
        var log = await GatherAsync(client, placement, own, tail, interrupt).ConfigureAwait(false);
        result = log.Complete(result);
        return new RunReport(result, log, log.Violation, 0, settings.Seed);
    }

    /// <summary>How long the submitter waits for a node's events once the run has ended (each batch a reply).</summary>
    private static readonly TimeSpan EventsTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The run's log: the events of every node that has parts of it (asked with <see cref="GetRunEvents"/>) and the
    /// machine's own, merged by their stamps (a tie: by node, then by the node's order) and recorded in that order into
    /// a log whose monitor checks them as they come, each with its own stamp, counted from the run's first event.
    /// </summary>
    private static async Task<EventLog> GatherAsync(ClusterNode client, ClusterPlacement placement, NodeEventBuffer own, int tail, CancellationToken interrupt)
    {
        var nodes = placement.Hosts.Values.Distinct().ToList();
        var gathered = await Task.WhenAll(nodes.Select(host => EventsOf(client, host, placement.Run, interrupt))).ConfigureAwait(false);
        var merged = gathered.Prepend(own.Events)
            .SelectMany((events, node) => events.Select(e => (Event: e, Node: node)))
            .OrderBy(e => e.Event.TimeNanos).ThenBy(e => e.Node).ThenBy(e => e.Event.Seq)
            .Select(e => e.Event)
            .ToList();
        var origin = merged.Count == 0 ? 0 : merged[0].TimeNanos;
        var now = 0L;
        var log = new EventLog(() => now, tail);
        foreach (var e in merged)
        {
            now = e.TimeNanos - origin;
            log.Record(e.Actor, e.Peer, e.Event);
        }
        return log;
    }

    /// <summary>Every event <paramref name="host"/>'s node kept of <paramref name="run"/>, in the node's order.</summary>
    private static async Task<ImmutableArray<NodeEvent>> EventsOf(ClusterNode client, IActorRef host, string run, CancellationToken interrupt)
    {
        var done = new TaskCompletionSource<ImmutableArray<NodeEvent>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var receiver = client.System.ActorOf(Props.Create(() => new EventsReceiver(host, run, done)));
        try
        {
            return await done.Task.WaitAsync(EventsTimeout, interrupt).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new ClusterUnavailableException($"the node of {host.Path.Address} did not send the run's events within {EventsTimeout.TotalSeconds:0}s (was it lost?)");
        }
        finally
        {
            client.System.Stop(receiver);
        }
    }

    /// <summary>Asks a node's host for a run's events and gathers its batches until the last; a host that stops ends it empty-handed.</summary>
    private sealed class EventsReceiver : ReceiveActor
    {
        public EventsReceiver(IActorRef host, string run, TaskCompletionSource<ImmutableArray<NodeEvent>> done)
        {
            var events = ImmutableArray.CreateBuilder<NodeEvent>();
            Context.Watch(host);
            host.Tell(new GetRunEvents(run));
            Receive<RunEvents>(batch =>
            {
                events.AddRange(batch.Events);
                if (batch.Last)
                    done.TrySetResult(events.ToImmutable());
            });
            Receive<Terminated>(_ => done.TrySetException(new ClusterUnavailableException(
                $"the node of {host.Path.Address} was lost before it sent the run's events")));
        }
    }

    /// <summary>
    /// Tells a run's machine (its subscriber) which members are unreachable, as this node's cluster events say: those
    /// unreachable when it subscribes, then each that becomes unreachable or reachable again (or is removed).
    /// </summary>
    private sealed class ReachabilityWatch : ReceiveActor
    {
        public ReachabilityWatch()
        {
            var view = new MembershipView();
            var subscribers = new List<IActorRef>();
            var told = new HashSet<string>(StringComparer.Ordinal); // unreachable, as the subscribers were told
            Receive<WatchReachability>(watch =>
            {
                subscribers.Add(watch.Subscriber);
                foreach (var node in told)
                    watch.Subscriber.Tell(new NodeReachability(node, Reachable: false));
            });
            ReceiveAny(message =>
            {
                if (!view.Apply(message))
                    return;
                var now = view.Members.Where(view.IsUnreachable).Select(m => m.Address.ToString()).ToHashSet(StringComparer.Ordinal);
                var changes = now.Except(told).Select(n => new NodeReachability(n, Reachable: false))
                    .Concat(told.Except(now).Select(n => new NodeReachability(n, Reachable: true))).ToList();
                told = now;
                foreach (var change in changes)
                {
                    foreach (var subscriber in subscribers)
                        subscriber.Tell(change);
                }
            });
        }

        protected override void PreStart() => MembershipView.Subscribe(Context.System, Self);

        protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
    }

    /// <summary>A faultsim member that is up: its address, roles and host.</summary>
    public sealed record NodeHost(Address Address, ImmutableHashSet<string> Roles, IActorRef Actor);

    /// <summary>
    /// The host of every member that is up and holds a faultsim role, found at the member's address under
    /// <see cref="NodeHostActor.Name"/>. A member whose host is not there yet (it is starting) is asked again.
    /// </summary>
    public static async Task<ImmutableArray<NodeHost>> FindHostsAsync(ClusterNode client, CancellationToken interrupt = default)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(interrupt);
        bound.CancelAfter(IdentifyTimeout + IdentifyTimeout);
        while (true)
        {
            var members = (await StateAsync(client).ConfigureAwait(false)).Members
                .Where(m => m.Status == MemberStatus.Up && m.Roles.Any(NodeRoles.All.Contains))
                .OrderBy(m => m.Address.ToString(), StringComparer.Ordinal)
                .ToList();
            var identities = await Task.WhenAll(members.Select(m => Identify(client, m.Address))).ConfigureAwait(false);
            var missing = members.Where((_, i) => identities[i] is null).ToList();
            if (missing.Count == 0)
                return [.. members.Select((m, i) => new NodeHost(m.Address, [.. m.Roles.Where(NodeRoles.All.Contains)], identities[i]!))];
            if (bound.IsCancellationRequested)
            {
                interrupt.ThrowIfCancellationRequested();
                throw new ClusterUnavailableException(
                    $"the faultsim node at {string.Join(", ", missing.Select(m => m.Address))} is up but offers no runs; is it a faultsim node of this build?");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None).ConfigureAwait(false); // the node is starting its host
        }
    }

    /// <summary>
    /// The members as the cluster's publisher knows them now (<c>Cluster.State</c> is a copy of it kept by a subscriber of
    /// its own, which may lag behind: a client just let in may see there fewer members than are up).
    /// </summary>
    private static async Task<ClusterEvent.CurrentClusterState> StateAsync(ClusterNode client)
    {
        var state = new TaskCompletionSource<ClusterEvent.CurrentClusterState>(TaskCreationOptions.RunContinuationsAsynchronously);
        var receiver = client.System.ActorOf(Props.Create(() => new StateReceiver(state)));
        try
        {
            client.Cluster.SendCurrentClusterState(receiver);
            return await state.Task.WaitAsync(IdentifyTimeout).ConfigureAwait(false);
        }
        finally
        {
            client.System.Stop(receiver);
        }
    }

    private sealed class StateReceiver : ReceiveActor
    {
        public StateReceiver(TaskCompletionSource<ClusterEvent.CurrentClusterState> state) =>
            Receive<ClusterEvent.CurrentClusterState>(s => state.TrySetResult(s));
    }

    private static async Task<IActorRef?> Identify(ClusterNode client, Address member)
    {
        try
        {
            var selection = client.System.ActorSelection(new RootActorPath(member) / "user" / NodeHostActor.Name);
            var identity = await selection.Ask<ActorIdentity>(new Identify(member.ToString()), IdentifyTimeout).ConfigureAwait(false);
            return identity.Subject;
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }

    /// <summary>The shard region of page loaders, in the hosting registry.</summary>
    public sealed class PageLoaderShard;

    /// <summary>The number of shards of page loaders: about ten per node of the largest cluster foreseen; never changed while a cluster lives.</summary>
    public const int LoaderShards = 30;

    /// <summary>
    /// Starts a faultsim node with <paramref name="roles"/>: its host, which makes the parts of runs placed on it, and on
    /// a pager node the shard region of page loaders (state in distributed data, remember-entities off, an idle loader
    /// passivated — by itself between two faults, and by its shard after <see cref="LoaderIdleAfter"/> whatever happens).
    /// </summary>
    /// <param name="configure">Adds to the node's wiring (a benchmark's in-process nodes silence Akka's log of their shutdown).</param>
    /// <param name="loadStarting">Told of every load the node's loaders start (a node-loss test's hook, see <see cref="RunContext.LoadStarting"/>).</param>
    public static Task<ClusterNode> StartNodeAsync(NodeSettings settings, IReadOnlyList<string> roles, int? port = null, Action<AkkaConfigurationBuilder>? configure = null,
        Func<ResolveFault, bool>? loadStarting = null)
    {
        var runs = new LoaderRuns(new Passivate(StopLoader.Instance), loadStarting);
        var pager = roles.Contains(NodeRoles.Pager);
        return ClusterNode.StartAsync(settings, roles, port,
            actors: (system, registry) =>
            {
                var region = pager ? registry.Get<PageLoaderShard>() : null;
                var node = Akka.Cluster.Cluster.Get(system).SelfAddress.ToString();
                PartsOf partsOf = (run, spec, traffic, events) => PartsOf(run, spec, traffic, runs, region, events);
                var host = system.ActorOf(NodeHostActor.Props(partsOf, node), NodeHostActor.Name);
                registry.Register<NodeHostActor>(host);
                // A node that leaves first lets every run with parts here release them (a run moves its loaders' routing
                // points elsewhere, or ends), and only then do its shards hand off: each loader finishes the load it holds.
                CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeClusterShutdown, "faultsim-release-runs", async () =>
                {
                    try
                    {
                        return await host.Ask<Akka.Done>(LeaveRuns.Instance, ReleaseBound).ConfigureAwait(false);
                    }
                    catch (AskTimeoutException)
                    {
                        return Akka.Done.Instance; // a run's machine that does not answer is lost to this node: leave anyway
                    }
                });
                CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseClusterLeave, "faultsim-runs-handed-off", () =>
                {
                    host.Tell(RunsHandedOff.Instance); // the shard regions' phase is over: every shard here has moved
                    return Task.FromResult(Akka.Done.Instance);
                });
            },
            configure: akka =>
            {
                configure?.Invoke(akka);
                if (pager)
                    akka.WithShardRegion<PageLoaderShard>("page-loaders", runs.EntityProps,
                        HashCodeMessageExtractor.Create(LoaderShards, m => (m as LoaderEnvelope)?.EntityId!, m => m is LoaderEnvelope e ? e.Message : m),
                        new ShardOptions
                        {
                            Role = NodeRoles.Pager,
                            StateStoreMode = StateStoreMode.DData,
                            RememberEntities = false,
                            PassivateIdleEntityAfter = LoaderIdleAfter,
                            HandOffStopMessage = StopLoader.Instance,
                        });
            });
    }

    /// <summary>
    /// How long a node that leaves waits for the runs with parts on it to release them before it goes anyway (within the
    /// phase's timeout, <c>akka.coordinated-shutdown.phases.before-cluster-shutdown.timeout</c>, which the node sets above it).
    /// </summary>
    public static readonly TimeSpan ReleaseBound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The bound within which a run that lost a node it cannot go on without ends, counted from the loss: for a node that
    /// leaves, at once (its coordinated shutdown tells the run first); for a node killed, Akka's failure detection (a
    /// heartbeat a second, 3 s of acceptable pause, and the detector's threshold), then <paramref name="downUnreachableAfter"/>
    /// until the split-brain resolver downs it, the gossip of its removal, and the machine's report (at most
    /// <see cref="MachineActor.LossReportBound"/>): within <paramref name="downUnreachableAfter"/> + 15 s (measured on a
    /// loopback cluster: + 7 to 9 s). A TLB whose wait bound runs out first, while the node is unreachable, ends it sooner.
    /// </summary>
    public static TimeSpan LossBound(TimeSpan downUnreachableAfter) => downUnreachableAfter + TimeSpan.FromSeconds(15);

    /// <summary>How long a loader that got no message stays before its shard passivates it (one whose run ended without it going idle).</summary>
    public static readonly TimeSpan LoaderIdleAfter = TimeSpan.FromMinutes(1);

    /// <summary>The role of the nodes a part runs on.</summary>
    public static string RoleOf(Part part) => part.Kind switch
    {
        PartKind.Memory => NodeRoles.Memory,
        PartKind.Disk => NodeRoles.Disk,
        PartKind.Loaders => NodeRoles.Pager,
        _ => NodeRoles.Cpu,
    };

    /// <summary>
    /// Where each part runs. <see cref="PlacementRule.Spread"/>: the single parts on the first node of their role (in
    /// address order), CPU i and TLB i together on the (i mod n)-th cpu node, and the k-th address space on the (k mod
    /// n)-th. <see cref="PlacementRule.Colocated"/>: every part whose role the memory node has on that node (the first
    /// memory node), the others as spread. The loaders' routing point is on every pager node (loaders, loaders1, …),
    /// each in front of its node's shard region, the loaders themselves sharded over the pager nodes; the first
    /// (the one the directory names) is on the memory node when it is a pager, colocated.
    /// </summary>
    public static ImmutableDictionary<Part, IActorRef> Place(IEnumerable<Part> parts, IReadOnlyList<NodeHost> hosts, PlacementRule rule = PlacementRule.Spread)
    {
        var byRole = NodeRoles.All.ToDictionary(r => r, r => hosts.Where(h => h.Roles.Contains(r)).OrderBy(h => h.Address.ToString(), StringComparer.Ordinal).ToList());
        foreach (var (role, nodes) in byRole)
        {
            if (nodes.Count == 0)
                throw new ClusterUnavailableException(
                    $"the cluster has no node with the role '{role}' up (its faultsim nodes: {(hosts.Count == 0 ? "none" : string.Join(", ", hosts.Select(h => $"{h.Address} [{string.Join(",", h.Roles.Order(StringComparer.Ordinal))}]")))}); " +
                    $"start one whose faultsim.cluster.node.roles has {role} (see config/cluster/)");
        }
        var home = byRole[NodeRoles.Memory][0];
        if (rule == PlacementRule.Colocated && byRole[NodeRoles.Pager].Remove(home))
            byRole[NodeRoles.Pager].Insert(0, home);
        var placed = ImmutableDictionary.CreateBuilder<Part, IActorRef>();
        var mms = 0;
        foreach (var part in parts)
        {
            var role = RoleOf(part);
            var nodes = byRole[role];
            var index = part.Kind switch
            {
                PartKind.Cpu or PartKind.Tlb => part.Index,
                PartKind.AddressSpace => mms++,
                _ => 0,
            };
            placed[part] = rule == PlacementRule.Colocated && home.Roles.Contains(role) ? home.Actor : nodes[index % nodes.Count].Actor;
            if (part.Kind == PartKind.Loaders)
            {
                for (var k = 1; k < nodes.Count; k++)
                    placed[new Part(PartKind.Loaders, k)] = nodes[k].Actor;
            }
        }
        return placed.ToImmutable();
    }
}

/// <summary>How a cluster run's parts are spread over the nodes of their roles (see <see cref="ClusterRun.Place"/>).</summary>
public enum PlacementRule
{
    /// <summary>Round-robin: the CPUs (each with its TLB) and the address spaces over the cpu nodes (run --cluster's).</summary>
    Spread,

    /// <summary>On the memory node whatever it can host: a fault's messages stay on one node when it hosts cpu, memory and pager.</summary>
    Colocated,
}

using System.CommandLine;
using System.Runtime.InteropServices;
using Akka.Cluster;
using Faultsim.Host.Cluster;
using Faultsim.Host.Configuration;

namespace Faultsim.Host.Cli;

/// <summary>faultsim node (a member of a cluster, until stopped) and faultsim cluster status (its members).</summary>
internal static class ClusterCommands
{
    /// <summary>--cluster FILE: the cluster file that names the seed nodes (config/cluster/).</summary>
    public static Option<string> ClusterFile() => new("--cluster")
    {
        Description = "Cluster config file naming the seed nodes (e.g. config/cluster/local.conf)",
        HelpName = "FILE",
        Required = true,
    };

    /// <summary>The settings of a cluster file, which must name the seed nodes.</summary>
    public static NodeSettings Load(string option, string path, IReadOnlyList<string> overrides)
    {
        var settings = NodeSettings.From(ConfigLoader.LoadText((path, ConfigLoader.ReadFile(option, path)), overrides));
        return settings.SeedNodes.IsEmpty
            ? throw new ConfigException(path, null, "sets no faultsim.cluster.seed-nodes; list the nodes to join as \"host:port\" (see config/cluster/local.conf)")
            : settings;
    }

    public static Command Node(CliContext cli)
    {
        var config = new Option<string>("--config", "-c")
        {
            Description = "The node's config file: its address, port and roles, over the cluster's (e.g. config/cluster/local-node1.conf)",
            HelpName = "FILE",
            Required = true,
        };
        var set = CommonOptions.Set();
        var command = new Command("node", "Start a cluster node with the roles its config gives; it runs until Ctrl-C or SIGTERM, then leaves the cluster")
        {
            config, set,
        };
        command.SetAction(parse => RunNode(cli, Load("--config", parse.GetValue(config)!, parse.GetValue(set) ?? [])).GetAwaiter().GetResult());
        return command;
    }

    private static async Task<int> RunNode(CliContext cli, NodeSettings settings)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cli.Interrupt);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
        {
            signal.Cancel = true; // leave gracefully rather than die at once
            stop.Cancel();
        });
        await using var node = await ClusterRun.StartNodeAsync(settings, settings.Roles);
        cli.Output.WriteLine($"faultsim node {node.Address} [{string.Join(",", settings.Roles)}]: joining {string.Join(", ", settings.SeedNodes)}");
        var stopped = Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        var up = node.WaitUpAsync(settings.JoinTimeout);
        if (await Task.WhenAny(up, stopped) == stopped || !await up)
        {
            await node.LeaveAsync();
            if (stop.IsCancellationRequested || (node.Terminated.IsCompleted && !node.Downed))
            {
                cli.Output.WriteLine($"faultsim node {node.Address}: stopped before it was let into the cluster");
                return ExitCodes.Ok;
            }
            cli.Error.WriteLine($"faultsim: node {node.Address} was not let into the cluster within {settings.JoinTimeout.TotalSeconds:0}s; " +
                                "start the first seed node first, and check faultsim.cluster.seed-nodes");
            return ExitCodes.Unavailable;
        }
        cli.Output.WriteLine($"faultsim node {node.Address}: up (Ctrl-C or SIGTERM leaves the cluster)");
        await Task.WhenAny(stopped, node.Terminated);
        await node.LeaveAsync();
        if (node.Downed)
        {
            cli.Error.WriteLine($"faultsim: node {node.Address} was removed from the cluster (downed while unreachable); its actor system has stopped");
            return ExitCodes.Unavailable;
        }
        cli.Output.WriteLine($"faultsim node {node.Address}: left the cluster");
        return ExitCodes.Ok;
    }

    public static Command Cluster(CliContext cli)
    {
        var cluster = ClusterFile();
        var status = new Command("status", "List the members of a running cluster: address, roles, state")
        {
            cluster,
        };
        status.SetAction(parse => Status(cli, Load("--cluster", parse.GetValue(cluster)!, [])).GetAwaiter().GetResult());
        return new Command("cluster", "Commands about a running faultsim cluster") { status };
    }

    private static async Task<int> Status(CliContext cli, NodeSettings settings)
    {
        await using var client = await Client(cli, settings);
        if (client is null)
            return ExitCodes.Unavailable;
        var state = client.Cluster.State;
        var members = state.Members.Where(m => m.Address != client.Address).OrderBy(m => m.Address.ToString(), StringComparer.Ordinal).ToList();
        cli.Output.WriteLine($"cluster {settings.Name}: {members.Count} node(s){(state.Leader is { } leader ? $", leader {leader}" : "")}");
        var width = members.Select(m => m.Address.ToString().Length).DefaultIfEmpty(7).Max();
        cli.Output.WriteLine($"{"address".PadRight(width)}  {"roles",-24}  state");
        foreach (var member in members)
        {
            var unreachable = state.Unreachable.Contains(member) ? " (unreachable)" : "";
            cli.Output.WriteLine($"{member.Address.ToString().PadRight(width)}  {string.Join(",", member.Roles.Order(StringComparer.Ordinal)),-24}  {State(member.Status)}{unreachable}");
        }
        return ExitCodes.Ok;
    }

    private static string State(MemberStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>A client member of the cluster (it hosts nothing), up; null, after a one-line error, when it was not let in in time.</summary>
    public static async Task<ClusterNode?> Client(CliContext cli, NodeSettings settings)
    {
        var client = await ClusterNode.StartAsync(settings, [NodeRoles.Client], port: 0);
        if (await client.WaitUpAsync(settings.JoinTimeout))
            return client;
        await client.DisposeAsync();
        cli.Error.WriteLine($"faultsim: no cluster let this client in within {settings.JoinTimeout.TotalSeconds:0}s at {string.Join(", ", settings.SeedNodes)}; " +
                            "start its nodes with 'faultsim node --config FILE' (see config/cluster/)");
        return null;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Faultsim.Tests.Host;

/// <summary>
/// `faultsim node` as a user starts it: three processes on 127.0.0.1 form a cluster that `cluster status` lists and that
/// runs submitted with `run --cluster` (out of process too) give the figures of one node and of the reference machine on,
/// and each leaves gracefully on SIGTERM. Every process the test starts is killed when it ends, whatever happened.
/// </summary>
public sealed class ClusterProcessTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();
    private readonly List<Process> _started = [];

    public void Dispose()
    {
        foreach (var process in _started)
        {
            try
            {
                if (!process.HasExited)
                    process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
            catch (InvalidOperationException)
            {
                // it was never started or is gone already
            }
            process.Dispose();
        }
        _dir.Dispose();
    }

    /// <summary>Ports free now (bound and released at once): the nodes listen on them next.</summary>
    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    private static string ClusterKeys(int[] ports) => $$"""
        faultsim.cluster {
          seed-nodes = ["127.0.0.1:{{ports[0]}}", "127.0.0.1:{{ports[1]}}"]
          down-unreachable-after = 2s
          join-timeout = 30s
          node.hostname = "127.0.0.1"
        }
        """;

    /// <summary>A node process, and a task that completes with its first line containing <paramref name="marker"/>.</summary>
    private (Process Process, Task<string> Up, Task<string> Output) StartNode(string config)
    {
        var process = CliHarness.Start("node", "--config", config);
        _started.Add(process);
        var up = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = Task.Run(async () =>
        {
            var all = new System.Text.StringBuilder();
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                all.AppendLine(line);
                if (line.EndsWith(": up (Ctrl-C or SIGTERM leaves the cluster)", StringComparison.Ordinal))
                    up.TrySetResult(line);
            }
            up.TrySetException(new Xunit.Sdk.XunitException($"the node ended before it was up: {all}{await process.StandardError.ReadToEndAsync()}"));
            return all.ToString();
        });
        return (process, up.Task, output);
    }

    [Fact]
    public async Task Three_node_processes_form_a_cluster_that_status_lists_and_each_leaves_on_sigterm()
    {
        var ports = FreePorts(3);
        string[][] roles = [["cpu", "memory"], ["pager"], ["pager", "disk"]];
        var nodes = ports.Select((port, i) => StartNode(_dir.Write($"node{i}.conf",
            ClusterKeys(ports) + $"\nfaultsim.cluster.node {{ port = {port}, roles = [{string.Join(", ", roles[i])}] }}\n"))).ToList();
        foreach (var node in nodes)
            await node.Up.WaitAsync(Bound);

        var (exit, output, error) = CliHarness.Cli("cluster", "status", "--cluster", _dir.Write("cluster.conf", ClusterKeys(ports)));
        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("cluster faultsim: 3 node(s)", lines[0]);
        for (var i = 0; i < 3; i++)
            Assert.Contains(lines, l => l.StartsWith($"akka.tcp://faultsim@127.0.0.1:{ports[i]} ", StringComparison.Ordinal)
                                        && l.Contains(' ' + string.Join(",", roles[i].Order(StringComparer.Ordinal)) + ' ', StringComparison.Ordinal)
                                        && l.TrimEnd().EndsWith(" up", StringComparison.Ordinal));

        foreach (var (process, _, all) in Enumerable.Reverse(nodes))
        {
            using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
                await term.WaitForExitAsync();
            Assert.True(process.WaitForExit(Bound), "SIGTERM did not stop the node");
            Assert.Equal(0, process.ExitCode);
            Assert.Contains(": left the cluster", await all);
        }
    }

    [Fact]
    public async Task Runs_submitted_with_run_cluster_to_three_node_processes_give_the_figures_of_one_node_and_of_the_reference_machine()
    {
        var ports = FreePorts(3);
        string[][] roles = [["cpu", "memory"], ["cpu", "pager"], ["disk", "pager"]];
        var nodes = ports.Select((port, i) => StartNode(_dir.Write($"node{i}.conf",
            ClusterKeys(ports) + $"\nfaultsim.cluster.node {{ port = {port}, roles = [{string.Join(", ", roles[i])}] }}\n"))).ToList();
        foreach (var node in nodes)
            await node.Up.WaitAsync(Bound);
        var cluster = _dir.Write("cluster.conf", ClusterKeys(ports));

        foreach (var (seed, cpus) in new[] { (1, 2), (2, 4) })
        {
            var config = _dir.Write($"race{seed}.conf", Scenarios.RaceFreeWorkloads.Hocon((ulong)(seed * 7919 + cpus), cpus));
            string[] run = ["run", "--config", config, "--seed", seed.ToString(CultureInfo.InvariantCulture), "--json", "-"];
            var (exit, output, error) = CliHarness.OutOfProcess(Bound, [.. run, "--cluster", cluster]);
            Assert.True(exit == 0, $"run --cluster exited {exit}: {error}");
            var distributed = JsonNode.Parse(output)!;
            var oneNode = Json(CliHarness.Cli([.. run, "--mode", "live"]));
            var reference = Json(CliHarness.Cli([.. run, "--engine", "reference"]));
            foreach (var figure in new[] { "processes", "memory", "steps", "never_started", "panic" })
            {
                Assert.True(JsonNode.DeepEquals(oneNode[figure], distributed[figure]), $"seed {seed}, {cpus} CPUs: {figure} differs from one node's");
                Assert.True(JsonNode.DeepEquals(reference[figure], distributed[figure]), $"seed {seed}, {cpus} CPUs: {figure} differs from the reference machine's");
            }
            var placed = distributed["cluster"]!["nodes"]!.AsArray().Select(n => n!["address"]!.GetValue<string>()).ToList();
            foreach (var port in ports)
                Assert.Contains($"akka.tcp://faultsim@127.0.0.1:{port}", placed);   // every node ran a part of it
            Assert.True(distributed["cluster"]!["messages_crossed_nodes"]!.GetValue<long>() > 0);
        }
    }

    private static JsonNode Json((int Exit, string Out, string Err) run)
    {
        Assert.True(run.Exit == 0, run.Err);
        return JsonNode.Parse(run.Out)!;
    }

    [Fact]
    public void A_client_that_no_cluster_lets_in_says_so_and_exits_69()
    {
        var port = FreePorts(1)[0];
        var cluster = _dir.Write("cluster.conf", $"faultsim.cluster {{ seed-nodes = [\"127.0.0.1:{port}\"], join-timeout = 1s }}\n");
        var (exit, _, error) = CliHarness.Cli("cluster", "status", "--cluster", cluster);
        Assert.Equal(69, exit);
        Assert.StartsWith($"faultsim: no cluster let this client in within 1s at akka.tcp://faultsim@127.0.0.1:{port}; start its nodes with 'faultsim node --config FILE'", error);
    }

    [Theory]
    [InlineData("--refs 1,2", "--refs: a cluster run (--cluster) runs the workload of --config; drop --refs or --cluster")]
    [InlineData("--events run.log", "--events: a cluster run (--cluster) keeps no event log; drop --events or --cluster")]
    [InlineData("--max-steps 50000000", "--max-steps: a cluster run (--cluster) is live, and a step limit stops deterministic runs; drop --max-steps or --cluster")]
    [InlineData("--mode deterministic", "--mode: a cluster run is live (its actors run on several nodes); drop --mode deterministic or --cluster")]
    [InlineData("--engine reference", "--engine: a cluster run runs the actor engine; drop engine = reference (or --engine reference) to run on a cluster")]
    public void Run_cluster_refuses_what_a_cluster_run_cannot_do_in_one_line_and_exit_2(string options, string message)
    {
        var cluster = _dir.Write("cluster.conf", $"faultsim.cluster.seed-nodes = [\"127.0.0.1:{FreePorts(1)[0]}\"]\n");
        var (exit, _, error) = CliHarness.Cli(["run", "--cluster", cluster, .. options.Split(' ')]);
        Assert.Equal(2, exit);
        Assert.Equal($"faultsim: {message}\n", error);
    }

    [Fact]
    public void Run_cluster_with_no_cluster_to_join_says_so_and_exits_69()
    {
        var port = FreePorts(1)[0];
        var cluster = _dir.Write("cluster.conf", $"faultsim.cluster {{ seed-nodes = [\"127.0.0.1:{port}\"], join-timeout = 1s }}\n");
        var (exit, output, error) = CliHarness.Cli("run", "--cluster", cluster);
        Assert.Equal(69, exit);
        Assert.Equal("", output);
        Assert.StartsWith($"faultsim: no cluster let this client in within 1s at akka.tcp://faultsim@127.0.0.1:{port}", error);
    }

    [Fact]
    public void A_cluster_file_that_binds_akkas_json_serializer_to_system_object_is_refused_by_every_command_at_its_line()
    {
        var cluster = _dir.Write("cluster.conf", "faultsim.cluster.seed-nodes = [\"127.0.0.1:4053\"]\nakka.actor.serialization-bindings {\n  \"System.Object\" = json\n}\n");
        foreach (var command in new[] { new[] { "run", "--cluster", cluster }, ["cluster", "status", "--cluster", cluster], ["node", "--config", cluster] })
        {
            var (exit, _, error) = CliHarness.Cli(command);
            Assert.Equal(2, exit);
            Assert.Equal($"faultsim: {cluster}:3: binds System.Object to Akka's JSON serializer (json), which would load any type a peer names; " +
                         "remove the binding: faultsim's own serializer carries every message between nodes\n", error);
        }
    }

    [Theory]
    [InlineData("faultsim.cluster.node.roles = [cpu, gpu]", "node.conf:2: faultsim.cluster.node.roles names the role 'gpu'; use any of cpu, pager, memory, disk")]
    [InlineData("faultsim.cluster.node.roles = []", "node.conf:2: faultsim.cluster.node.roles is empty; give the node one or more of cpu, pager, memory, disk")]
    [InlineData("faultsim.cluster.seed-nodes = [\"127.0.0.1\"]", "node.conf:2: faultsim.cluster.seed-nodes has '127.0.0.1'; write each seed as \"host:port\", e.g. \"127.0.0.1:4053\"")]
    [InlineData("faultsim.cluster.node.port = 70000", "node.conf:2: faultsim.cluster.node.port is '70000'; use a whole number from 0 to 65535")]
    [InlineData("faultsim.cluster.name = \"a b\"", "node.conf:2: faultsim.cluster.name is 'a b'; use letters, digits, - and _ (an actor system's name)")]
    [InlineData("faultsim.cluster.join-timeout = 5s", "node.conf: sets no faultsim.cluster.seed-nodes; list the nodes to join as \"host:port\" (see config/cluster/local.conf)")]
    public void A_bad_node_config_is_one_line_naming_its_file_and_line_and_exit_2(string line, string message)
    {
        var seeds = line.Contains("seed-nodes", StringComparison.Ordinal) || line.Contains("join-timeout", StringComparison.Ordinal) ? "" : "faultsim.cluster.seed-nodes = [\"127.0.0.1:4053\"]";
        var config = _dir.Write("node.conf", seeds + "\n" + line + "\n");
        var (exit, _, error) = CliHarness.Cli("node", "--config", config);
        Assert.Equal(2, exit);
        Assert.Equal($"faultsim: {Path.Combine(_dir.Root, message)}\n", error.Replace("\r", "", StringComparison.Ordinal));
    }
}

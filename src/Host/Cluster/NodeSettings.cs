using System.Collections.Immutable;
using System.Globalization;
using Faultsim.Host.Configuration;

namespace Faultsim.Host.Cluster;

/// <summary>What a node or a client of a faultsim cluster is: read once from the config's <c>faultsim.cluster</c> section.</summary>
/// <param name="Name">The actor system's name, the same on every node.</param>
/// <param name="SeedNodes">The nodes to contact to join, as Akka addresses (akka.tcp://name@host:port).</param>
/// <param name="Roles">This node's roles (see <see cref="NodeRoles"/>).</param>
public sealed record NodeSettings(
    string Name, ImmutableArray<string> SeedNodes, TimeSpan DownUnreachableAfter, TimeSpan JoinTimeout,
    string Hostname, string? PublicHostname, int Port, ImmutableArray<string> Roles)
{
    public static NodeSettings From(LoadedConfig loaded)
    {
        RefuseJsonBindings(loaded);
        var cluster = new ConfigReader(loaded, loaded.Merged, "").Section(ConfigSchema.Root).Section("cluster");
        var node = cluster.Section("node");
        var name = cluster.String("name");
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw cluster.Error("name", $"is '{name}'; use letters, digits, - and _ (an actor system's name)");
        var roles = node.Strings("roles").Select(r => r.ToLowerInvariant()).Distinct().ToImmutableArray();
        foreach (var role in roles.Where(r => !NodeRoles.All.Contains(r)))
            throw node.Error("roles", $"names the role '{role}'; use any of {string.Join(", ", NodeRoles.All)}");
        if (roles.IsEmpty)
            throw node.Error("roles", $"is empty; give the node one or more of {string.Join(", ", NodeRoles.All)}");
        var seeds = cluster.Strings("seed-nodes").Select(s => SeedAddress(cluster, name, s)).ToImmutableArray();
        var publicHostname = node.String("public-hostname");
        return new NodeSettings(name, seeds,
            cluster.Duration("down-unreachable-after", ConfigReader.MaxWallNanos), cluster.Duration("join-timeout", ConfigReader.MaxWallNanos),
            node.String("hostname"), publicHostname.Length == 0 ? null : publicHostname, node.Int("port", 0, 65535), roles);
    }

    private const string Bindings = "akka.actor.serialization-bindings.";

    /// <summary>
    /// A cluster config may not bind Akka's Newtonsoft JSON serializer to System.Object (or to faultsim's messages): it
    /// would carry what crosses nodes by a CLR type name the peer sends, which faultsim's own serializer never does.
    /// </summary>
    private static void RefuseJsonBindings(LoadedConfig loaded)
    {
        foreach (var key in loaded.KeysSetUnder(Bindings))
        {
            var type = key[Bindings.Length..].Trim('"');
            var serializer = loaded.Merged.GetString($"{Bindings}\"{type}\"") ?? ""; // the type's name has dots: one quoted key
            var serializerType = loaded.Merged.GetString($"akka.actor.serializers.{serializer}") ?? "";
            var json = serializer == "json" || serializerType.Contains("NewtonSoftJsonSerializer", StringComparison.Ordinal);
            var crosses = type.Split(',')[0].Trim() is "System.Object" or "object" || type.StartsWith("Faultsim.", StringComparison.Ordinal);
            if (json && crosses)
                throw loaded.Error(key, $"binds {type} to Akka's JSON serializer ({serializer}), which would load any type a peer names; " +
                                        "remove the binding: faultsim's own serializer carries every message between nodes");
        }
    }

    /// <summary>A seed given as host:port, as the Akka address of a node of cluster <paramref name="name"/>.</summary>
    private static string SeedAddress(ConfigReader cluster, string name, string seed)
    {
        var colon = seed.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(seed[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw cluster.Error("seed-nodes", $"has '{seed}'; write each seed as \"host:port\", e.g. \"127.0.0.1:4053\"");
        return $"akka.tcp://{name}@{seed[..colon]}:{port}";
    }
}

/// <summary>The roles a node may have: what it hosts.</summary>
public static class NodeRoles
{
    /// <summary>Runs: the machine, CPUs with their TLBs, and the address spaces.</summary>
    public const string Cpu = "cpu";
    /// <summary>Page loaders.</summary>
    public const string Pager = "pager";
    public const string Memory = "memory";
    public const string Disk = "disk";
    /// <summary>A client's (cluster status): it hosts nothing and leaves when done.</summary>
    public const string Client = "client";

    public static readonly ImmutableArray<string> All = [Cpu, Pager, Memory, Disk];
}

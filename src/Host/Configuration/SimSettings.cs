using Faultsim.Actors.Machine;
using Faultsim.Actors.Shootdown;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Replacement;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Configuration;

/// <summary>Everything a run needs, read once from the config into immutable values.</summary>
public sealed record SimSettings(string Engine, ulong Seed, Workload Workload, string WorkloadOrigin, EngineSettings Actors)
{
    public static readonly string[] Engines = [MachineActor.EngineName, ReferenceMachine.EngineName];

    public static SimSettings From(LoadedConfig loaded)
    {
        var root = new ConfigReader(loaded, loaded.Merged, "").Section(ConfigSchema.Root);
        var engine = root.Choice("engine", Engines);
        var seed = root.Seed("seed");
        var machine = ReadMachine(root);
        var workload = new WorkloadReader(new ConfigReader(loaded, loaded.Workload, ConfigSchema.WorkloadPath), machine).Read();
        var actors = new EngineSettings(
            root.Int("actors.quantum", 1, 1 << 16),
            Enum.Parse<ShootdownMode>(root.Choice("shootdown", "eager", "batched", "lazy"), ignoreCase: true),
            root.Int("machine.disk.queue-depth", 1, 1 << 16),
            root.String("actors.threads").Equals("auto", StringComparison.OrdinalIgnoreCase) ? 0 : root.Int("actors.threads", 1, 256))
        {
            DiskLatency = root.Duration("machine.disk.latency"),
            DiskBandwidth = root.Size("machine.disk.bandwidth") is var bandwidth and > 0 ? bandwidth
                : throw root.Error("machine.disk.bandwidth", "must be more than 0 bytes per second"),
            TimedDisk = root.Bool("actors.timed-disk"),
        };
        return new SimSettings(engine, seed, workload, loaded.WorkloadSource.Origin, actors);
    }

    private static MachineSpec ReadMachine(ConfigReader root)
    {
        var m = root.Section("machine");
        var entries = m.Int("tlb.entries", 1, 1 << 20);
        if ((entries & (entries - 1)) != 0)
            throw m.Error("tlb.entries", $"is {entries}; use a power of two such as 64");
        var ways = m.Int("tlb.ways", 1, entries);
        if (entries % ways != 0)
            throw m.Error("tlb.ways", $"is {ways}; use a number that divides tlb.entries ({entries})");
        return new MachineSpec
        {
            Cpus = m.Int("cpus", 1, 1024),
            Frames = m.Int("frames", 0, 1 << 28),
            Policy = Enum.Parse<ReplacementPolicyKind>(m.Choice("policy", "fifo", "lru", "clock", "opt"), ignoreCase: true),
            ZeroPage = m.Bool("zero-page"),
            WordsPerPage = m.Int("words-per-page", 1, 512),
            TlbEntries = entries,
            TlbWays = ways,
            Stack = new StackRules(m.Size("stack.limit"), m.Size("stack.guard-gap"), m.SizeOrOff("stack.sp-window")),
            Interleaving = root.Choice("interleaving", "round-robin", "random", "sequential") switch
            {
                "random" => Interleaving.Random,
                "sequential" => Interleaving.Sequential,
                _ => Interleaving.RoundRobin,
            },
            Disk = new DiskFailures(m.Fraction("disk.read-error-rate"), [.. m.Strings("disk.bad-pages").Select(p => BadPage(m, p))]),
        };
    }

    private static (string File, ulong Page) BadPage(ConfigReader m, string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !ulong.TryParse(text[(colon + 1)..], out var page))
            throw m.Error("disk.bad-pages", $"entry '{text}' is not FILE:PAGE, e.g. \"table:3\"");
        return (text[..colon], page);
    }
}

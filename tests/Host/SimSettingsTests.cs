using Faultsim.Host.Configuration;
using Faultsim.Model.Replacement;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Host;

/// <summary>Reading the config into settings: good values, and bad ones reported at their file and line.</summary>
public sealed class SimSettingsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A config file whose line 4 is <paramref name="line"/>, inside faultsim.machine.</summary>
    private string MachineFile(string line) =>
        _dir.Write("machine.conf", $"# one machine setting\nfaultsim {{\n  machine {{\n    {line}\n  }}\n}}\n");

    [Theory]
    [InlineData("cpus = 0", "faultsim.machine.cpus is '0'; use a whole number from 1 to 1024")]
    [InlineData("cpus = many", "faultsim.machine.cpus is 'many'")]
    [InlineData("tlb.entries = 48", "faultsim.machine.tlb.entries is 48; use a power of two such as 64")]
    [InlineData("tlb { ways = 3 }", "faultsim.machine.tlb.ways is 3; use a number that divides tlb.entries (64)")]
    [InlineData("policy = mru", "faultsim.machine.policy is 'mru'; use one of fifo, lru, clock, opt")]
    [InlineData("zero-page = maybe", "faultsim.machine.zero-page is 'maybe'; use on or off")]
    [InlineData("smap = sometimes", "faultsim.machine.smap is 'sometimes'; use on or off")]
    [InlineData("stack.limit = 8Q", "faultsim.machine.stack.limit is '8Q'")]
    [InlineData("stack.sp-window = wide", "faultsim.machine.stack.sp-window is 'wide'; write a number such as 4096, 0x1000, 64K or 8M, or off")]
    [InlineData("fault-around = 48K", "faultsim.machine.fault-around is 49152 bytes; use a power of two from 4K to 2M (Linux's fault_around_bytes), or 0 or off for none")]
    [InlineData("fault-around = 4M", "faultsim.machine.fault-around is 4194304 bytes; use a power of two from 4K to 2M")]
    [InlineData("fault-around = lots", "faultsim.machine.fault-around is 'lots'; write a number such as 4096, 0x1000, 64K or 8M, or off")]
    [InlineData("readahead.window = 6000", "faultsim.machine.readahead.window is 6000 bytes; use a multiple of 4K up to 1G, such as 128K, or 0 or off for none")]
    [InlineData("readahead.window = 256K", "faultsim.machine.readahead.window is 262144 bytes, more than readahead.max (131072 bytes); raise readahead.max with it, or lower the window")]
    [InlineData("readahead { max = 2G }", "faultsim.machine.readahead.max is 2147483648 bytes; use a multiple of 4K up to 1G")]
    [InlineData("disk.read-error-rate = 2", "faultsim.machine.disk.read-error-rate is '2'; use a number from 0 to 1")]
    [InlineData("disk.bad-pages = [\"libc\"]", "entry 'libc' is not FILE:PAGE")]
    [InlineData("disk.bad-pages = [\"libc:x\"]", "entry 'libc:x' is not FILE:PAGE")]
    [InlineData("disk.bad-pages = [\"ghost:1\"]", "names file 'ghost', which is not in the workload's files")]
    [InlineData("disk.bad-pages = \"libc:1\"", "faultsim.machine.disk.bad-pages should be a list")]
    public void A_bad_machine_value_is_a_config_error_naming_the_file_and_line(string line, string message)
    {
        var path = MachineFile(line);
        var e = Assert.Throws<ConfigException>(() => SimSettings.From(ConfigLoader.Load(path, [])));
        Assert.Equal(path, e.Origin);
        Assert.Equal(4, e.Line);
        Assert.StartsWith($"{path}:4: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("engine = threads", "faultsim.engine is 'threads'; use one of actors, reference")]
    [InlineData("seed = -1", "faultsim.seed is '-1'")]
    [InlineData("interleaving = chaos", "faultsim.interleaving is 'chaos'; use one of round-robin, random, sequential")]
    public void A_bad_top_level_value_is_a_config_error_naming_the_file_and_line(string line, string message)
    {
        var path = _dir.Write("top.conf", $"faultsim {{\n  {line}\n}}\n");
        var e = Assert.Throws<ConfigException>(() => SimSettings.From(ConfigLoader.Load(path, [])));
        Assert.StartsWith($"{path}:2: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void The_embedded_default_reads_into_the_documented_machine()
    {
        var machine = SimSettings.From(ConfigLoader.Load(null, [])).Workload.Machine;
        Assert.Equal(4, machine.Cpus);
        Assert.Equal(0, machine.Frames);
        Assert.Equal(ReplacementPolicyKind.Lru, machine.Policy);
        Assert.True(machine.ZeroPage);
        Assert.True(machine.Smap);
        Assert.Equal(8, machine.WordsPerPage);
        Assert.Equal((64, 4), (machine.TlbEntries, machine.TlbWays));
        Assert.Equal(new Faultsim.Model.Faults.StackRules(8UL << 20, 1UL << 20, null), machine.Stack); // no stack-pointer window, as x86 Linux since 4.20
        Assert.Equal(Interleaving.RoundRobin, machine.Interleaving);
        Assert.Equal(0, machine.Disk.ReadErrorRate);
        Assert.Empty(machine.Disk.BadPages);
        Assert.Equal(new Faultsim.Model.Memory.ReadaheadRules(16, 32, 32), machine.Readahead); // Linux: 64K fault-around, 128K windows
    }

    [Theory]
    [InlineData("fault-around = off", 0, 32, 32)]
    [InlineData("fault-around = 0", 0, 32, 32)]
    [InlineData("fault-around = 2M", 512, 32, 32)]
    [InlineData("readahead { window = off }", 16, 0, 32)]
    [InlineData("readahead { window = 64K, max = 512K }", 16, 16, 128)]
    public void Fault_around_and_readahead_are_read_in_pages(string line, int around, int window, int max)
    {
        var machine = SimSettings.From(ConfigLoader.Load(MachineFile(line), [])).Workload.Machine;
        Assert.Equal(new Faultsim.Model.Memory.ReadaheadRules(around, window, max), machine.Readahead);
    }

    [Fact]
    public void Good_machine_values_are_read_into_the_machine_spec()
    {
        var path = _dir.Write("machine.conf", """
            faultsim {
              seed = 0x10
              interleaving = random
              machine {
                cpus = 6, frames = 64, policy = CLOCK, zero-page = off, smap = off, words-per-page = 4
                tlb { entries = 16, ways = 16 }
                stack { limit = 1M, guard-gap = 0, sp-window = 64K }
                disk { read-error-rate = 0.25, bad-pages = ["table:3", "libc:0"] }
              }
            }
            """);
        var settings = SimSettings.From(ConfigLoader.Load(path, []));
        var machine = settings.Workload.Machine;
        Assert.Equal(16UL, settings.Seed);
        Assert.Equal(Interleaving.Random, machine.Interleaving);
        Assert.Equal((6, 64, ReplacementPolicyKind.Clock, false, 4), (machine.Cpus, machine.Frames, machine.Policy, machine.ZeroPage, machine.WordsPerPage));
        Assert.False(machine.Smap);
        Assert.Equal((16, 16), (machine.TlbEntries, machine.TlbWays));
        Assert.Equal(new Faultsim.Model.Faults.StackRules(1UL << 20, 0, 65536), machine.Stack);
        Assert.Equal(0.25, machine.Disk.ReadErrorRate);
        Assert.Equal([("table", 3UL), ("libc", 0UL)], machine.Disk.BadPages.ToArray());
    }

    [Fact]
    public void The_wait_bound_of_live_runs_is_10_seconds_by_default_and_may_be_set_or_turned_off()
    {
        Assert.Equal(TimeSpan.FromSeconds(10), SimSettings.From(ConfigLoader.Load(null, [])).Actors.WaitBound);
        Assert.Equal(TimeSpan.FromMilliseconds(250), SimSettings.From(ConfigLoader.Load(null, ["actors.wait-bound=250ms"])).Actors.WaitBound);
        Assert.Null(SimSettings.From(ConfigLoader.Load(null, ["actors.wait-bound=off"])).Actors.WaitBound);
    }

    [Theory]
    [InlineData("wait-bound = 0s", "faultsim.actors.wait-bound must be more than 0 (or off, for no bound)")]
    [InlineData("wait-bound = soon", "faultsim.actors.wait-bound is 'soon'; write a duration such as 100us, 2ms or 1s")]
    public void A_bad_wait_bound_is_a_config_error_naming_the_file_and_line(string line, string message)
    {
        var path = _dir.Write("actors.conf", $"faultsim {{\n  actors {{\n    {line}\n  }}\n}}\n");
        var e = Assert.Throws<ConfigException>(() => SimSettings.From(ConfigLoader.Load(path, [])));
        Assert.StartsWith($"{path}:3: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_deterministic_run_bounds_no_wait_whatever_the_config_says()
    {
        var settings = SimSettings.From(ConfigLoader.Load(null, ["actors.wait-bound=1us"]));
        using var engine = new Faultsim.Actors.Scheduling.DeterministicEngine();
        var report = Faultsim.Host.Running.Runner.Run(settings, settings.Workload, 1, engine);
        Assert.False(report.Failed, report.Crash ?? report.Violation?.ToString()); // not one of its waits was cut short
    }
}

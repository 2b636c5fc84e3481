using System.Text.RegularExpressions;
using Faultsim.Host.Cli;
using Faultsim.Host.Configuration;
using Faultsim.Host.Scenarios;
using Faultsim.Host.Swarm;
using Faultsim.Model.Addressing;
using Faultsim.Model.Workloads;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Host;

/// <summary>Swarm draws: a pure function of the seed, one format with scenario files, loadable, explored and replayed.</summary>
public sealed class SwarmTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly SwarmSource _source = new([]);

    public void Dispose() => _dir.Dispose();

    /// <summary>Everything a run takes from its settings, written out: knobs, checks, files, processes, regions, every op with its line.</summary>
    private static string Describe(Faultsim.Host.Configuration.SimSettings s)
    {
        var w = s.Workload;
        var m = w.Machine;
        return string.Join("\n",
        [
            $"seed {s.Seed}; {m with { Disk = DiskFailures.None }}; disk {m.Disk.ReadErrorRate} [{string.Join(",", m.Disk.BadPages)}]",
            $"quantum {s.Actors.Quantum}; {s.Actors.Run.Latencies}; crash {s.Actors.Run.LoaderCrashRate}; counts {s.Checks.CountsMatchReference}",
            .. w.Files.Select(f => f.ToString()),
            .. w.Processes.Select(p => $"{p.Name} sp {p.InitialStackPointer}: {string.Join("; ", p.Regions)}"),
            .. w.Scripts.Select(c => $"cpu {c.Cpu}: {string.Join("; ", c.Ops)}"),
        ]);
    }

    [Fact]
    public void A_draw_is_a_pure_function_of_its_seed()
    {
        for (ulong seed = 1; seed <= 50; seed++)
        {
            Assert.Equal(_source.Draw(seed).Text, new SwarmSource([]).Draw(seed).Text);
            Assert.Equal(Describe(_source.Load(seed)), Describe(_source.Load(seed)));
        }
        Assert.Equal(50, Enumerable.Range(1, 50).Select(s => _source.Draw((ulong)s).Text).Distinct().Count());
    }

    [Fact]
    public void A_draw_written_as_a_scenario_file_loads_as_the_same_run()
    {
        for (ulong seed = 1; seed <= 40; seed++)
        {
            var path = _dir.Write($"draw-{seed}.conf", _source.Draw(seed).Text);
            Assert.Equal(Describe(_source.Load(seed)), Describe(ScenarioCatalog.Load(path, [])));
        }
    }

    [Fact]
    public void Every_draw_of_500_seeds_loads_and_between_them_they_draw_every_kind_of_cpu_count_region_and_operation()
    {
        var loaded = Enumerable.Range(1, 500).Select(seed => _source.Load((ulong)seed)).ToList(); // a config error would throw here
        Assert.Equal(Enumerable.Range(1, 8), loaded.Select(s => s.Workload.Machine.Cpus).Distinct().Order());
        Assert.Contains(loaded, s => s.Workload.Machine.Frames == 1);
        Assert.InRange(loaded.Count(s => s.Checks.CountsMatchReference), 100, 400);
        Assert.Contains(loaded, s => s.Actors.Run.LoaderCrashRate > 0);
        Assert.Contains(loaded, s => s.Workload.Machine.Disk.ReadErrorRate > 0);
        var regions = loaded.SelectMany(s => s.Workload.Processes.SelectMany(p => p.Regions)).ToList();
        Assert.Contains(regions, r => r.File is not null && (r.Flags & Faultsim.Model.Vmas.VmaFlags.Shared) != 0);
        Assert.Contains(regions, r => r.File is not null && (r.Flags & Faultsim.Model.Vmas.VmaFlags.Shared) == 0);
        Assert.Contains(regions, r => r.File is null && (r.Flags & Faultsim.Model.Vmas.VmaFlags.Shared) != 0);
        Assert.Contains(regions, r => (r.Flags & Faultsim.Model.Vmas.VmaFlags.GrowsDown) != 0);
        var ops = loaded.SelectMany(s => s.Workload.Scripts.SelectMany(c => c.Ops)).ToList();
        Assert.Contains(ops, op => op is Op.Fork);
        Assert.Contains(ops, op => op is Op.Exit);
        Assert.Contains(ops, op => op is Op.Map);
        Assert.Contains(ops, op => op is Op.Unmap);
        Assert.Contains(ops, op => op is Op.Protect);
        Assert.Contains(ops, op => op is Op.Advise { Advice: Advice.DontNeed });
        Assert.Contains(ops, op => op is Op.Advise { Advice: Advice.PageOut });
        Assert.Contains(ops, op => op is Op.Barrier);
        Assert.Contains(ops, op => op is Op.SetStackPointer);
        Assert.Contains(ops, op => op is Op.Access { Kind: AccessKind.Fetch });
        Assert.Contains(ops, op => op is Op.Access { Mode: AccessMode.UserCopy, Kind: AccessKind.Write });
        Assert.Contains(ops, op => op is Op.Access { Mode: AccessMode.UserCopy, Kind: AccessKind.Read });
    }

    [Fact]
    public void A_race_free_draw_is_held_to_the_reference_machine_even_with_loader_crashes_and_a_draw_with_disk_errors_is_not()
    {
        var loaded = Enumerable.Range(1, 200).Select(seed => _source.Load((ulong)seed)).ToList();
        Assert.All(loaded.Where(s => s.Checks.CountsMatchReference), s =>
        {
            Assert.Equal(0, s.Workload.Machine.Disk.ReadErrorRate);
            Assert.True(s.Workload.Scripts.Length == 1 || s.Workload.Machine.Frames == 0);
        });
        Assert.Contains(loaded, s => s.Checks.CountsMatchReference && s.Workload.Scripts.Length > 1);
        Assert.Contains(loaded, s => s.Checks.CountsMatchReference && s.Workload.Machine.Frames > 0);
        Assert.Contains(loaded, s => s.Checks.CountsMatchReference && s.Actors.Run.LoaderCrashRate > 0); // all but the TLB's figures
    }

    [Fact]
    public void Lock_ops_add_mlock_munlock_and_mremap_lines_from_a_stream_of_their_own_and_leave_every_other_line_as_it_was()
    {
        var locking = new SwarmSource(["swarm.lock-ops=1"]);
        var added = 0;
        for (ulong seed = 1; seed <= 30; seed++)
        {
            var (plain, with) = (_source.Load(seed), locking.Load(seed));
            static string Lines(SimSettings s, bool locks) => string.Join("|", s.Workload.Scripts.Select(script =>
                string.Join(";", script.Ops.Where(o => locks == o is Op.Lock or Op.Remap).Select(o => o with { Line = 0 }))));
            Assert.Equal(Lines(plain, locks: false), Lines(with, locks: false));
            Assert.Equal("", Lines(plain, locks: true).Replace("|", "", StringComparison.Ordinal)); // off by default
            added += with.Workload.Scripts.Sum(script => script.Ops.Count(o => o is Op.Lock or Op.Remap));
        }
        Assert.True(added > 10, $"only {added} mlock, munlock or mremap lines in 30 draws");
    }

    [Fact]
    public void A_knob_given_with_set_is_pinned_in_every_draw_and_the_rest_of_the_draw_stays_as_it_was()
    {
        var pinned = new SwarmSource(["machine.frames=1", "faultsim.shootdown=lazy", "actors.quantum=5"]);
        for (ulong seed = 1; seed <= 30; seed++)
        {
            var (free, pin) = (_source.Load(seed), pinned.Load(seed));
            Assert.Equal((1, Faultsim.Model.Shootdowns.ShootdownMode.Lazy, 5), (pin.Workload.Machine.Frames, pin.Workload.Machine.Shootdown, pin.Actors.Quantum));
            Assert.Equal(free.Workload.Machine.Cpus, pin.Workload.Machine.Cpus);
            Assert.Equal(free.Workload.Scripts.Select(s => string.Join(";", s.Ops)), pin.Workload.Scripts.Select(s => string.Join(";", s.Ops)));
        }
        Assert.All(Enumerable.Range(1, 30), seed => Assert.Single(new SwarmSource(["machine.cpus=1"]).Load((ulong)seed).Workload.Scripts));
    }

    [Fact]
    public void A_bad_swarm_option_is_an_error_at_its_set()
    {
        var (exit, _, error) = Cli("explore", "--swarm", "--seeds", "1", "--set", "swarm.max-cpus=0");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("faultsim: --set swarm.max-cpus=0: faultsim.swarm.max-cpus is '0'; use a whole number from 1 to 64\n", error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Explore_swarm_runs_a_draw_per_seed_with_every_invariant_and_says_how_many_were_held_to_the_reference()
    {
        var (exit, output, error) = Cli("explore", "--swarm", "--seeds", "24");
        Assert.Equal("", error);
        Assert.Equal(ExitCodes.Ok, exit);
        var raceFree = Enumerable.Range(1, 24).Count(seed => _source.Draw((ulong)seed).RaceFree);
        Assert.Matches($@"^no violation in 24 seeds of swarm draws \({raceFree} race-free, held to the reference machine\): 24 seeds in [0-9.]+ s", output);
    }

    [Fact]
    public void Explore_and_replay_take_a_scenario_or_swarm_but_not_both_nor_neither()
    {
        foreach (var args in new[] { new[] { "explore" }, ["explore", "--swarm", "--scenario", "herd"], ["replay", "--seed", "1"] })
        {
            var (exit, _, error) = Cli(args);
            Assert.Equal(ExitCodes.BadInput, exit);
            Assert.StartsWith("faultsim: ", error);
            Assert.Contains("--swarm", error);
        }
    }

    [Fact]
    public void Replay_swarm_reproduces_its_run_and_the_scenario_file_it_writes_runs_the_same()
    {
        var path = Path.Combine(_dir.Root, "seed-9.conf");
        var first = Cli("replay", "--swarm", "--seed", "9", "--write-scenario", path);
        var second = Cli("replay", "--swarm", "--seed", "9");
        var fromFile = Cli("replay", "--scenario", path, "--seed", "9");
        Assert.Equal(ExitCodes.Ok, first.Exit);
        Assert.Contains($"wrote swarm draw ({_source.Draw(9).Summary}) to {path}: faultsim replay --scenario {path} --seed 9", first.Out);
        Assert.Equal(_source.Draw(9).Text, File.ReadAllText(path));
        string Hash(string output) => Regex.Match(output, @"event log \(([0-9,]+) events, hash ([0-9a-f]{16})\)").Value;
        Assert.NotEqual("", Hash(first.Out));
        Assert.Equal(Hash(first.Out), Hash(second.Out));
        Assert.Equal(Hash(first.Out), Hash(fromFile.Out));
        Assert.Equal((first.Exit, second.Exit), (fromFile.Exit, fromFile.Exit));
    }
}

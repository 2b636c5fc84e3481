using System.Text.RegularExpressions;
using Faultsim.Host.Cli;
using Faultsim.Host.Swarm;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Host;

/// <summary>
/// The generator's shapes (faultsim.swarm.cow-threads, .late-faults): drawn from a stream of their own, each the race it is
/// named after, and each what makes swarm catch the narrow planted bug it aims at.
/// </summary>
public sealed class SwarmShapeTests : IDisposable
{
    private static readonly SwarmOptions Defaults = new();
    private static readonly SwarmOptions NoShapes = new() { CowThreads = 0, LateFaults = 0 };
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static SwarmWorld Draw(ulong seed, SwarmOptions? options = null) => SwarmGenerator.Draw(seed, options ?? Defaults, SwarmPins.None);

    [Fact]
    public void The_shapes_come_from_a_stream_of_their_own_so_a_draw_without_one_is_the_draw_it_was_and_a_shaped_draw_keeps_its_own_lines()
    {
        var (cow, late) = (0, 0);
        for (ulong seed = 1; seed <= 200; seed++)
        {
            var (shaped, plain) = (Draw(seed), Draw(seed, NoShapes));
            Assert.Empty(plain.Shapes);
            if (shaped.Shapes.Count == 0)
            {
                Assert.Equal(SwarmText.Of(plain).Text, SwarmText.Of(shaped).Text);
                continue;
            }
            cow += shaped.Shapes.Contains("cow-threads") ? 1 : 0;
            late += shaped.Shapes.Contains("late-faults") ? 1 : 0;
            Assert.False(shaped.RaceFree);
            Assert.Equal(plain.Knobs, shaped.Knobs);
            foreach (var (cpu, lines) in plain.Scripts)
            {
                // the shape's lines come first; the CPU's own follow (its first run line is the shape's when it runs the same process)
                var own = lines[0] == "run p0" ? lines.Skip(1).ToList() : [.. lines];
                Assert.Equal(own, shaped.Scripts[cpu].TakeLast(own.Count));
            }
        }
        Assert.InRange(cow, 8, 40);   // 0.1 of the racy 0.7 of 200 draws, about 14
        Assert.InRange(late, 8, 40);
    }

    [Fact]
    public void A_cow_threads_shape_puts_three_threads_of_one_process_around_a_fork_and_a_cow_break_with_one_reading_the_others_word()
    {
        var world = Enumerable.Range(1, 200).Select(s => Draw((ulong)s)).First(w => w.Shapes.Contains("cow-threads"));
        var forked = world.Scripts.Where(s => s.Value.Any(l => Regex.IsMatch(l, @"^barrier s\d+_forked$"))).ToList();
        Assert.Equal(3, forked.Count);
        Assert.All(forked, s => Assert.Equal("run p0", s.Value[0])); // threads of one process: one address space
        var writer = Assert.Single(forked, s => s.Value.Any(l => Regex.IsMatch(l, @"^fork t\d+$")));
        var reader = Assert.Single(forked, s => s.Value.Count(l => l.StartsWith("load ", StringComparison.Ordinal)) >= 17);
        var breaker = writer.Value.SkipWhile(l => !l.StartsWith("fork ", StringComparison.Ordinal)).First(l => l.StartsWith("store ", StringComparison.Ordinal));
        var page = Regex.Match(breaker, @"^store (r\d+):(\d+)$");
        Assert.True(page.Success, breaker);
        var other = Assert.Single(forked, s => s.Key != writer.Key && s.Key != reader.Key);
        Assert.Contains(breaker, other.Value); // B stores its word of the same page
        var word = $"load {page.Groups[1].Value}+0x{ulong.Parse(page.Groups[2].Value) * 4096 + (ulong)(other.Key % 8) * 8:x}";
        Assert.True(reader.Value.Count(l => l == word) >= 17, $"the reader reads B's word ({word}) again and again");
        var text = SwarmText.Of(world).Text;
        Assert.Matches(@"\n  latency.tlb-hit = (1|20|50|200)ns\n", text);
        Assert.Matches(@"\n  latency.ipi = (2|5|20)us\n", text);
        var loaded = new SwarmSource([]).Load(world.Seed); // loads as a scenario file does
        Assert.Equal(world.Scripts.Count, loaded.Workload.Scripts.Length);
    }

    [Fact]
    public void A_late_faults_shape_has_threads_of_one_process_fault_one_page_of_a_private_file_mapping_one_at_once_the_others_after_work_of_their_own()
    {
        var world = Enumerable.Range(1, 200).Select(s => Draw((ulong)s)).First(w => w.Shapes.Contains("late-faults"));
        var p0 = world.Roots.Single(p => p.Name == "p0");
        var data = p0.Known.Single(r => r.Kind == SwarmRegionKind.FilePrivate && world.Files.Single(f => f.Name == r.File).Size == 4096
                                        && world.Scripts.Values.Count(s => s.Any(l => l.EndsWith($" {r.Name}:0", StringComparison.Ordinal))) >= 2);
        var faulting = world.Scripts.Values.Where(s => s.Any(l => l.EndsWith($" {data.Name}:0", StringComparison.Ordinal))).ToList();
        Assert.All(faulting, s => Assert.Equal("run p0", s[0]));
        Assert.Contains(faulting, s => s[1] == $"store {data.Name}:0"); // the one that reads the page and copies it
        Assert.Contains(faulting, s => Regex.IsMatch(s[1], @"^store r\d+:\d+\.\.\d+$")); // one that comes later
        Assert.Matches(@"\n  machine.disk.latency = (5|10|20|40)us\n", SwarmText.Of(world).Text);
    }

    [Fact]
    public void Shapes_set_to_0_draw_none_and_a_bad_shape_probability_is_an_error_at_its_set()
    {
        var none = new SwarmSource(["swarm.cow-threads=0", "swarm.late-faults=0"]);
        Assert.All(Enumerable.Range(1, 100), s => Assert.DoesNotContain("shaped", none.Draw((ulong)s).Summary, StringComparison.Ordinal));
        Assert.Contains(Enumerable.Range(1, 100), s => new SwarmSource([]).Draw((ulong)s).Summary.Contains("shaped", StringComparison.Ordinal));
        var (exit, _, error) = Cli("explore", "--swarm", "--seeds", "1", "--set", "swarm.late-faults=2");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith("faultsim: --set swarm.late-faults=2: faultsim.swarm.late-faults is '2'", error);
    }

    /// <summary>The narrow planted bugs swarm catches through a shape: the bug, its first catching seed, the invariant, the shape.</summary>
    public static TheoryData<string, int, int, string> Narrow => new()
    {
        { "publish-before-flush", 244, 7, "cow-threads" },
        { "wake-late-follower", 54, 2, "late-faults" },
    };

    [Theory]
    [MemberData(nameof(Narrow))]
    public void Swarm_catches_a_narrow_planted_bug_at_a_seed_that_replays_to_its_invariant_passes_without_the_bug_and_without_its_shape(
        string bug, int seed, int invariant, string shape)
    {
        Assert.Contains(shape, Draw((ulong)seed).Shapes);
        var set = $"bugs.{bug}=true";
        var caught = Cli("replay", "--swarm", "--seed", $"{seed}", "--set", set);
        Assert.Equal(ExitCodes.Violation, caught.Exit);
        Assert.Contains($"invariant {invariant} (", caught.Out);
        var correct = Cli("replay", "--swarm", "--seed", $"{seed}");
        Assert.Equal(ExitCodes.Ok, correct.Exit);
        Assert.Contains("every invariant held", correct.Out);
        var unshaped = Cli("replay", "--swarm", "--seed", $"{seed}", "--set", set, "--set", $"swarm.{shape}=0");
        Assert.Equal(ExitCodes.Ok, unshaped.Exit); // the shape is what catches it
    }

    [Theory]
    [MemberData(nameof(Narrow))]
    public void Explore_swarm_finds_a_narrow_planted_bug_first_at_its_seed_and_the_shrunk_reproducer_replays_to_the_same_invariant(
        string bug, int seed, int invariant, string shape)
    {
        _ = shape;
        var (exit, output, _) = Cli("explore", "--swarm", "--seeds", $"{seed}", "--set", $"bugs.{bug}=true", "--out", _dir.Root);
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains($"replay it: faultsim replay --swarm --seed {seed} --set bugs.{bug}=true", output);
        var path = Path.Combine(_dir.Root, $"invariant-{invariant}-seed-{seed}.conf");
        Assert.Contains($"wrote the shrunk reproducer to {path} (invariant-{invariant})", output);
        var replay = Cli("replay", "--scenario", path, "--seed", $"{seed}");
        Assert.Equal(ExitCodes.Violation, replay.Exit);
        Assert.Contains($"invariant {invariant} (", replay.Out);
    }
}

using Faultsim.Host.Cli;
using Faultsim.Tests.Host;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Scenarios;

/// <summary>
/// Invariant 8: a run that stops making progress — it spins past a bound scaled to its workload without resolving a fault,
/// applying an access or making a system call — is a violation of its own, not a run that merely reached its step limit.
/// </summary>
public sealed class LivenessTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Loaders_that_crash_on_every_read_make_no_progress_and_explore_reports_invariant_8_with_its_replay()
    {
        var (exit, output, _) = Cli("explore", "--scenario", "loader-crash", "--seeds", "3", "--set", "chaos.loader-crash-rate=1", "--out", _dir.Root, "--no-shrink");
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains("invariant 8 (every run makes progress) violated: no progress in the last 100,000 messages (the bound: 100 messages × a script size of 12, " +
            "at least 10,000): no fault was resolved, no access applied and no system call made since the run began", output.ReplaceLineEndings(" ").Replace("  ", " "));
        Assert.Contains("replay it: faultsim replay --scenario loader-crash --seed 1 --set chaos.loader-crash-rate=1 --max-steps 100000", output);
        var replay = Cli("replay", "--scenario", "loader-crash", "--seed", "1", "--set", "chaos.loader-crash-rate=1", "--max-steps", "100000");
        Assert.Equal(ExitCodes.Violation, replay.Exit);
        Assert.Contains("invariant 8 (every run makes progress) violated", replay.Out);
    }

    /// <summary>
    /// A one-CPU run that makes progress (<paramref name="stores"/> into its heap), then spins: every read of the library
    /// page crashes its loader, and the fault is retried forever.
    /// </summary>
    private string Spinning(string heapSize, string stores) => _dir.Write("spin.conf", $$"""
        faultsim {
          machine.cpus = 1
          chaos.loader-crash-rate = 1
          workload {
            files { lib { size = 4K } }
            processes {
              app {
                regions {
                  heap { start = 0x10000000, size = {{heapSize}} }
                  lib { start = 0x20000000, size = 4K, prot = r, file = lib }
                }
              }
            }
            cpus { 0 = "run app\n{{stores}}\nload lib:0" }
          }
        }
        """);

    [Fact]
    public void A_run_that_makes_progress_and_then_spins_is_caught_at_its_last_progress()
    {
        var path = Spinning(heapSize: "16K", stores: "store heap:0..3");
        var (exit, output, _) = Cli("explore", "--scenario", path, "--seeds", "1", "--out", _dir.Root, "--no-shrink");
        Assert.Equal(ExitCodes.Violation, exit);
        var verdict = output.ReplaceLineEndings(" ");
        Assert.Matches(@"invariant 8 \(every run makes progress\) violated: no progress in the last 10,000 messages .*since event [1-9][0-9]*", verdict);
    }

    [Fact]
    public void Explore_shrinks_a_run_that_makes_no_progress_to_a_smaller_one_with_a_lower_step_limit_that_replays_to_invariant_8()
    {
        var path = Spinning(heapSize: "4K", stores: "store heap:0");
        var (exit, output, _) = Cli("explore", "--scenario", path, "--seeds", "1", "--out", _dir.Root);
        Assert.Equal(ExitCodes.Violation, exit);
        // The store made progress and goes; the step limit comes down to the bound of the smaller script and a message.
        Assert.Matches(@"shrunk in \d+ runs \(at most 1,000: faultsim.explore.shrink.max-runs\): 3 → 2 script lines, 1 → 1 CPUs, [\d,]+ → [\d,]+ events, stopped at 10,001 messages \(max-steps\)", output);
        var reproducer = Path.Combine(_dir.Root, "invariant-8-seed-1.conf");
        var shape = Faultsim.Host.Shrinking.ScenarioShape.Parse(File.ReadAllText(reproducer));
        Assert.Equal("10001", shape.Knob("faultsim.max-steps"));
        Assert.DoesNotContain("store", string.Join("\n", shape.Scripts[0]));
        var replay = Cli("replay", "--scenario", reproducer, "--seed", "1");
        Assert.Equal(ExitCodes.Violation, replay.Exit);
        Assert.Contains("invariant 8 (every run makes progress) violated: no progress in the last 10,001 messages", replay.Out.ReplaceLineEndings(" "));
    }

    [Fact]
    public void A_workload_that_deadlocks_on_the_reference_machine_too_is_bad_input_not_a_violation()
    {
        var path = _dir.Write("deadlock.conf", """
            faultsim {
              machine.cpus = 2
              workload {
                processes { app { regions { heap { start = 0x10000000, size = 4K } } } }
                cpus { 0 = "run app\nbarrier x\nbarrier y", 1 = "run app\nbarrier y\nbarrier x" }
              }
            }
            """);
        var (exit, _, error) = Cli("replay", "--scenario", path, "--seed", "1");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("the workload deadlocks", error);
    }
}

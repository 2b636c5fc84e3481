using System.Text.RegularExpressions;
using Faultsim.Host.Cli;
using Faultsim.Model.Common;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Host;

/// <summary>--events FILE: every event streamed to the file as it happens, the file the whole log whose hash the run prints.</summary>
public sealed class EventFileTests : IDisposable
{
    private static readonly string GoldenDirectory = Path.Combine(AppContext.BaseDirectory, "Golden");
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string PrintedHash(string output) => Regex.Match(output, @"event log: [\d,]+ events, hash ([0-9a-f]{16})").Groups[1].Value;

    private static string FileHash(string path) => $"{Fnv1a.Mix(Fnv1a.Offset, File.ReadAllBytes(path)):x16}";

    [Theory]
    [InlineData("herd", "7", "random")]
    [InlineData("fork-cow-race", "3", "pct")]
    [InlineData("munmap-race", "11", "random")]
    public void Replay_streams_exactly_the_golden_log_to_its_event_file(string scenario, string seed, string strategy)
    {
        var path = Path.Combine(_dir.Root, "events.log");
        var (exit, output, _) = Cli("replay", "--scenario", scenario, "--seed", seed, "--strategy", strategy, "--events", path);

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal(File.ReadAllText(Path.Combine(GoldenDirectory, $"{scenario}-{strategy}-seed{seed}.log")), File.ReadAllText(path));
        Assert.Equal(PrintedHash(output), FileHash(path));
    }

    [Fact]
    public void A_long_run_streams_every_event_while_its_report_keeps_only_the_tail()
    {
        var path = Path.Combine(_dir.Root, "events.log");
        var (exit, output, _) = Cli("run", "--set", "bugs.cow-ignore-refcount=true", "--set", "event-log.tail=50", "--events", path);

        Assert.Equal(ExitCodes.Violation, exit);
        var lines = File.ReadAllLines(path);
        var count = int.Parse(Regex.Match(output, @"event log \(([\d,]+) events").Groups[1].Value.Replace(",", ""));
        Assert.True(count > 50, $"the run logged only {count} events");
        Assert.Equal(count, lines.Length);                                  // the file has every event, the violating one last
        Assert.Contains($"… the first {(count - 50).ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} events are left out (the last 50 are kept", output);
        var printed = output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => Regex.IsMatch(l, @"^ *\d+ +[\d,]+ ns  ")).ToList();
        Assert.Equal(lines.TakeLast(50), printed);
        Assert.Contains($"the last 50 of {count} events", output);          // the diagram draws from the tail, and says so
        Assert.Equal(Regex.Match(output, @"hash ([0-9a-f]{16})\):").Groups[1].Value, FileHash(path));
    }

    [Fact]
    public void A_live_run_streams_as_many_events_as_it_counts()
    {
        var path = Path.Combine(_dir.Root, "live.log");
        var (exit, output, _) = Cli("run", "--mode", "live", "--events", path);
        Assert.Equal(ExitCodes.Ok, exit);
        var count = int.Parse(Regex.Match(output, @"event log: ([\d,]+) events").Groups[1].Value.Replace(",", ""));
        Assert.Equal(count, File.ReadAllLines(path).Length);
        Assert.Equal(PrintedHash(output), FileHash(path));
    }

    [Fact]
    public void An_event_file_that_cannot_be_written_is_bad_input_before_the_run()
    {
        var path = Path.Combine(_dir.Root, "no-such-directory", "events.log");
        var (exit, output, error) = Cli("run", "--events", path);
        Assert.Equal(ExitCodes.BadInput, exit);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"faultsim: --events: cannot write {path}: ", line);
        Assert.EndsWith("Give a file in a directory that exists and that you may write.", line.TrimEnd());
        Assert.Equal("", output);
    }

    [Fact]
    public void The_reference_engine_has_no_event_log_to_write()
    {
        var (exit, output, error) = Cli("run", "--engine", "reference", "--events", Path.Combine(_dir.Root, "x.log"));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("faultsim: --events: the reference engine keeps no event log; run the actor engine (--engine actors)", error.TrimEnd());
        Assert.Equal("", output);
        Assert.False(File.Exists(Path.Combine(_dir.Root, "x.log")));
    }
}

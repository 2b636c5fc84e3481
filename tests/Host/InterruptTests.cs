using System.Diagnostics;
using System.Text.Json;
using Faultsim.Actors.Monitoring;
using Faultsim.Actors.Scheduling;
using Faultsim.Host.Cli;
using Faultsim.Host.Output;
using Faultsim.Host.Running;
using Faultsim.Host.Scenarios;

namespace Faultsim.Tests.Host;

/// <summary>
/// Ctrl-C (SIGINT): every command stops at once, reports what it did marked partial, writes its outputs whole with
/// "partial": true, and exits 130 — in process through the command's interrupt token, and out of process by a real signal.
/// </summary>
public sealed class InterruptTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Interrupts the run the moment its <c>at</c>-th event is recorded: a point in the run, not in time.</summary>
    private sealed class InterruptAt(long at, CancellationTokenSource interrupt) : IEventSink
    {
        public void Write(LoggedEvent e, ReadOnlySpan<char> line)
        {
            if (e.Seq == at)
                interrupt.Cancel();
        }
    }

    private static (int Exit, string Out, string Err) Interrupted(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = FaultsimCli.Run(args, output, error, _ => null, new CancellationToken(canceled: true));
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void A_deterministic_run_interrupted_mid_way_stops_at_once_and_reports_the_figures_its_events_show()
    {
        var settings = ScenarioCatalog.Load("evict-race", []);
        using var engine = new DeterministicEngine();
        var whole = Runner.Run(settings, settings.Workload, 1, engine);
        using var interrupt = new CancellationTokenSource();
        var report = Runner.Run(settings, settings.Workload, 1, engine, new InterruptAt(40, interrupt), interrupt.Token);

        Assert.True(report.Interrupted);
        Assert.Null(report.Result);
        // It stopped at the end of the message that recorded event 40: the same run cut off after as many messages.
        var cut = engine.Run(settings.Workload, settings.Actors, 1, settings.Explore.StrategyFor(1), maxSteps: report.Steps);
        Assert.InRange(report.Log!.Count, 40, 60);
        Assert.Equal((cut.Log.Count, cut.Log.Hash), (report.Log.Count, report.Log.Hash));
        Assert.Equal(ExitCodes.Interrupted, ExitCodes.Of(report));
        var soFar = report.Log.Tally.Totals;
        Assert.InRange(soFar.Total, 1, whole.Result!.Totals.Total - 1);
        using var json = JsonDocument.Parse(RunJson.Serialize(report, "actors"));
        Assert.True(json.RootElement.GetProperty("partial").GetBoolean());
        Assert.Equal(soFar.Total, json.RootElement.GetProperty("faults").GetProperty("total").GetInt64());
        Assert.StartsWith("interrupted (SIGINT) after", json.RootElement.GetProperty("stopped").GetString());
        Assert.False(JsonDocument.Parse(RunJson.Serialize(whole, "actors")).RootElement.GetProperty("partial").GetBoolean());
    }

    [Fact]
    public void An_interrupted_run_writes_its_json_and_event_file_whole_marked_partial_and_exits_130()
    {
        var (json, events) = (Path.Combine(_dir.Root, "run.json"), Path.Combine(_dir.Root, "events.log"));
        var (exit, output, error) = Interrupted("run", "--json", json, "--events", events);
        Assert.Equal(130, exit);
        Assert.Equal("", error);
        Assert.Contains("interrupted (SIGINT) after 0 events", output);
        Assert.True(JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("partial").GetBoolean());
        Assert.True(File.Exists(events));
        Assert.Equal([json, events], Directory.GetFiles(_dir.Root).Order().Reverse()); // no temporary file left
    }

    [Fact]
    public void Every_engine_and_mode_prints_what_it_did_marked_partial()
    {
        foreach (var how in new[] { new[] { "--engine", "reference" }, ["--mode", "deterministic"], ["--mode", "live"] })
        {
            var (exit, output, error) = Interrupted(["run", .. how]);
            Assert.True(exit == 130, $"{string.Join(' ', how)}: exit {exit}: {error}");
            Assert.Contains("partial: the figures", output);
            Assert.Contains("interrupted (SIGINT) after", output);
            Assert.DoesNotContain("   at ", error);
        }
    }

    [Fact]
    public void Interrupted_explore_says_how_many_seeds_passed_and_exits_130()
    {
        var (exit, output, _) = Interrupted("explore", "--scenario", "herd", "--seeds", "1000");
        Assert.Equal(130, exit);
        Assert.StartsWith("interrupted (SIGINT): partial: no violation in the 0 of 1,000 seeds of herd that finished — seeds 1 to 0 all passed", output);
    }

    [Fact]
    public void Interrupted_bench_writes_its_json_marked_partial_and_exits_130()
    {
        var (exit, output, error) = Interrupted("bench", "--workload", "demand-zero", "--faults", "1000", "--runs", "1", "--json", "-");
        Assert.True(exit == 130, error);
        using var json = JsonDocument.Parse(output);
        Assert.True(json.RootElement.GetProperty("partial").GetBoolean());
        Assert.Equal(0, json.RootElement.GetProperty("results").GetArrayLength());
    }

    [Fact]
    public async Task Sigint_stops_a_traced_run_with_exit_130_its_outputs_whole_and_marked_partial()
    {
        // One CPU storing to 4,000,000 pages, every fault traced: far longer than it takes to be interrupted once it has begun,
        // even on a loaded machine (400,000 once finished first there).
        var config = _dir.Write("long.conf", """
            faultsim.workload {
              processes { p { regions { buf { start = 0x10000000, size = 16000M } } } }
              cpus { 0 = "run p\nstore buf:0..3999999" }
            }
            """);
        var (json, trace) = (Path.Combine(_dir.Root, "run.json"), Path.Combine(_dir.Root, "trace.json"));
        using var process = CliHarness.Start("run", "--config", config, "--events", "-", "--json", json, "--trace-file", trace);
        try
        {
            await Interrupt(process, json, trace);
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true); // a failed test leaves no run behind
        }
    }

    private const int SigInt = 2;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private async Task Interrupt(Process process, string json, string trace)
    {
        var error = process.StandardError.ReadToEndAsync();
        var first = await process.StandardOutput.ReadLineAsync(); // the run has begun: its first event is out
        Assert.NotNull(first);
        Assert.Equal(0, Kill(process.Id, SigInt)); // at once, not through a kill(1) process of its own, slow to start on a loaded machine
        var rest = process.StandardOutput.ReadToEndAsync(); // drained, or the run would block on a full pipe
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "SIGINT did not stop the run");
        await rest;
        Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}: {await error}");
        Assert.DoesNotContain("   at ", await error);
        using var result = JsonDocument.Parse(File.ReadAllText(json));
        Assert.True(result.RootElement.GetProperty("partial").GetBoolean());
        Assert.InRange(result.RootElement.GetProperty("faults").GetProperty("total").GetInt64(), 0, 3_999_999);
        using var spans = JsonDocument.Parse(File.ReadAllText(trace)); // whole: it parses
        Assert.True(spans.RootElement.GetProperty("otherData").GetProperty("partial").GetBoolean());
        Assert.Empty(Directory.GetFiles(_dir.Root, "*.tmp"));
    }
}

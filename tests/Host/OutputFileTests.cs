using System.Diagnostics;
using System.Text.Json;
using Faultsim.Host.Cli;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Host;

/// <summary>Outputs: "-" is standard output on every output option, and every file is written whole or not at all.</summary>
public sealed class OutputFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Events_to_standard_output_print_only_the_events_and_create_no_file_named_dash()
    {
        var (exit, output, error) = Cli("replay", "--scenario", "herd", "--seed", "7", "--events", "-");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal("", error);
        var golden = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "herd-random-seed7.log"));
        Assert.Equal(golden, output);
        Assert.False(File.Exists("-"));
    }

    [Fact]
    public void A_trace_file_to_standard_output_is_the_trace_json_alone()
    {
        var (exit, output, error) = Cli("replay", "--scenario", "herd", "--seed", "1", "--trace-file", "-");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal("", error);
        using var trace = JsonDocument.Parse(output);
        Assert.True(trace.RootElement.GetProperty("traceEvents").GetArrayLength() > 10);
        Assert.False(File.Exists("-"));
    }

    [Fact]
    public void Every_output_file_is_in_place_whole_after_a_run_and_no_temporary_file_is_left()
    {
        string Out(string name) => Path.Combine(_dir.Root, name);
        var (exit, output, _) = Cli("run", "--json", Out("run.json"), "--events", Out("run.log"), "--trace-file", Out("trace.json"));
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("faults by process", output);
        using (JsonDocument.Parse(File.ReadAllText(Out("run.json"))))
        using (JsonDocument.Parse(File.ReadAllText(Out("trace.json"))))
        {
        }
        Assert.EndsWith("\n", File.ReadAllText(Out("run.log")));
        Assert.Equal(["run.json", "run.log", "trace.json"], Directory.GetFiles(_dir.Root).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void An_existing_file_is_replaced_only_when_the_new_one_is_whole()
    {
        var path = _dir.Write("run.json", "old");
        var (exit, _, _) = Cli("run", "--engine", "reference", "--json", path);
        Assert.Equal(ExitCodes.Ok, exit);
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal("reference", json.RootElement.GetProperty("engine").GetString());
    }

    [Fact]
    public void A_temporary_file_a_killed_run_left_is_cleared_by_the_next_write_and_a_live_ones_is_not()
    {
        var json = Path.Combine(_dir.Root, "run.json");
        var dead = _dir.Write(".run.json.2147483646.tmp", "{ \"cut"); // no process has this number (beyond the kernel's pid_max)
        var live = _dir.Write(".run.json.1.tmp", "{ \"init"); // process 1 always runs
        var (exit, _, err) = CliHarness.Cli("run", "--json", json);
        Assert.True(exit == 0, err);
        Assert.False(File.Exists(dead), "the dead run's temporary file was left");
        Assert.True(File.Exists(live), "a running process's temporary file was deleted");
        Assert.True(File.Exists(json));
    }

    [Fact]
    public async Task A_run_killed_mid_write_leaves_no_file_under_the_final_name()
    {
        // One CPU storing to 400,000 pages (about 2,000,000 events): long enough to be killed while its event log is being written.
        var config = _dir.Write("long.conf", """
            faultsim.workload {
              processes { p { regions { buf { start = 0x10000000, size = 1600M } } } }
              cpus { 0 = "run p\nstore buf:0..399999" }
            }
            """);
        var events = Path.Combine(_dir.Root, "events.log");
        var trace = Path.Combine(_dir.Root, "trace.json");
        // The kernel kills it after 4 s of CPU time (ulimit -t: SIGXCPU, then SIGKILL), well inside the run's 20-odd seconds
        // and long after it started writing; no clock is raced.
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-c", "ulimit -t 4; exec \"$0\" \"$@\"", CliHarness.DotnetHost, CliHarness.FaultsimDll, "run", "--config", config, "--events", events, "--trace-file", trace })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), "the run was not stopped");
        Assert.DoesNotContain("event log:", await output); // it was killed, not run to its end
        Assert.True(process.ExitCode != 0, $"exit {process.ExitCode}: {error}");
        Assert.NotEmpty(Directory.GetFiles(_dir.Root, ".events.log.*.tmp")); // killed while it was writing
        Assert.False(File.Exists(events), "a cut event log was left under its final name");
        Assert.False(File.Exists(trace), "a cut trace file was left under its final name");
    }
}

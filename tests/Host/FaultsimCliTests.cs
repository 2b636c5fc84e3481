using System.Text.Json;
using Faultsim.Host.Cli;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Host;

/// <summary>The command line end to end: exit codes, the table, the JSON contract, reference strings, bench, and bad input.</summary>
public sealed class FaultsimCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    // The JSON names the README promises: the stable ones, then those it lists "beside them".
    private static readonly string[] StableCounters =
        ["faults.minor", "faults.major", "faults.total", "faults.cow", "faults.segv", "disk.reads", "tlb.hits", "tlb.misses", "tlb.shootdowns", "ipis"];
    private static readonly string[] OtherCounters =
        ["faults.bus", "faults.efault", "faults.oops", "faults.spurious", "faults.by_resolution", "pages.zeroed", "pages.copied", "pages.evicted",
         "disk.writes", "accesses", "syscall_errors"];
    private static readonly string[] Resolutions =
        ["demand_zero", "zero_page", "page_cache_hit", "major", "cow_break", "cow_reuse", "stack_growth", "spurious", "sigsegv", "sigbus", "efault", "kernel_oops"];

    private static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>The dotted names of an object's values, objects flattened (faults.by_resolution kept whole).</summary>
    private static List<string> Names(JsonElement element, string prefix = "")
    {
        var names = new List<string>();
        foreach (var property in element.EnumerateObject())
        {
            var name = prefix + property.Name;
            if (property.Value.ValueKind == JsonValueKind.Object && name is not ("faults.by_resolution" or "latency"))
                names.AddRange(Names(property.Value, name + "."));
            else
                names.Add(name);
        }
        return names;
    }

    private static long At(JsonElement element, string dotted)
    {
        foreach (var part in dotted.Split('.'))
            element = element.GetProperty(part);
        return element.GetInt64();
    }

    /// <summary>The repository's README, found above the test binaries.</summary>
    private static string Readme()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Actors.sln")))
                return File.ReadAllText(Path.Combine(dir.FullName, "README.md"));
        }
        throw new InvalidOperationException("no Actors.sln above " + AppContext.BaseDirectory);
    }

    private static void AssertBadInput((int Exit, string Out, string Err) run, string expected)
    {
        Assert.Equal(2, run.Exit);
        var lines = run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{run.Err}");
        Assert.StartsWith("faultsim: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("Exception", run.Err);
        Assert.DoesNotContain("   at ", run.Err);     // a .NET stack frame
        Assert.Equal("", run.Out);
    }

    [Fact]
    public void Run_of_the_default_config_exits_0_and_prints_the_tables()
    {
        var (exit, output, error) = Cli("run");
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Contains("faultsim run", output);
        Assert.Contains("faults by process", output);
        Assert.Contains("faults by resolution", output);
        foreach (var process in new[] { "shell", "job", "db" })
            Assert.Contains(process, output);
        foreach (var resolution in new[] { "demand_zero", "zero_page", "major", "cow_break", "stack_growth", "sigsegv", "sigbus", "efault" })
            Assert.Contains(resolution, output);
    }

    [Fact]
    public void Run_json_to_stdout_prints_only_valid_json_with_the_documented_names()
    {
        var (exit, output, error) = Cli("run", "--json", "-");
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        var json = Json(output);
        Assert.Equal("actors", json.GetProperty("engine").GetString());
        Assert.Equal(1, json.GetProperty("seed").GetInt64());
        Assert.Equal(4, json.GetProperty("cpus").GetInt32());
        foreach (var name in StableCounters)
            Assert.Equal(JsonValueKind.Number, Lookup(json, name).ValueKind);
        var processes = json.GetProperty("processes").EnumerateArray().ToList();
        Assert.Equal(["shell", "db", "job"], processes.Select(p => p.GetProperty("name").GetString()));
        foreach (var process in processes)
        {
            Assert.Equal(JsonValueKind.Number, process.GetProperty("pid").ValueKind);
            Assert.Equal(JsonValueKind.String, process.GetProperty("fate").ValueKind);
            foreach (var name in StableCounters)
                Assert.Equal(JsonValueKind.Number, Lookup(process, name).ValueKind);
        }

        static JsonElement Lookup(JsonElement element, string dotted) =>
            dotted.Split('.').Aggregate(element, (e, part) => e.GetProperty(part));
    }

    [Fact]
    public void Run_json_holds_exactly_the_names_the_readme_documents()
    {
        var json = Json(Cli("run", "--json", "-").Out);
        string[] top = ["engine", "seed", "partial", "cpus", .. StableCounters, .. OtherCounters, "steps", "memory.pages", "memory.file_pages", "memory.hash", "panic", "processes",
            "never_started", "latency", "events.count", "events.hash", "limit", "violation"];
        string[] perProcess = ["pid", "name", "fate", .. StableCounters, .. OtherCounters];
        Assert.Equal(top.Order(), Names(json).Order());
        foreach (var process in json.GetProperty("processes").EnumerateArray())
            Assert.Equal(perProcess.Order(), Names(process).Order());
        Assert.Equal(Resolutions.Order(), Names(json.GetProperty("faults").GetProperty("by_resolution")).Order());
        var readme = Readme();
        foreach (var name in top.Concat(Resolutions).Select(n => n.Split('.')[^1]))
            Assert.True(readme.Contains(name, StringComparison.Ordinal), $"the README never mentions the JSON name '{name}'");
    }

    [Fact]
    public void Run_json_totals_add_up_and_equal_the_sum_over_processes()
    {
        var json = Json(Cli("run", "--json", "-").Out);
        var processes = json.GetProperty("processes").EnumerateArray().ToList();
        foreach (var element in processes.Prepend(json))
            Assert.Equal(At(element, "faults.minor") + At(element, "faults.major"), At(element, "faults.total"));
        foreach (var name in StableCounters)
            Assert.Equal(processes.Sum(p => At(p, name)), At(json, name));
        Assert.True(At(json, "faults.total") > 0);
    }

    [Fact]
    public void Run_json_to_a_file_writes_the_file_and_still_prints_the_table()
    {
        var path = Path.Combine(_dir.Root, "out.json");
        var (exit, output, _) = Cli("run", "--json", path, "--seed", "7");
        Assert.Equal(0, exit);
        Assert.Contains("faults by process", output);
        Assert.Equal(7, Json(File.ReadAllText(path)).GetProperty("seed").GetInt64());
    }

    [Fact]
    public void Run_of_the_default_workload_with_one_frame_ends_in_oom_kills_not_a_crash()
    {
        var (exit, output, error) = Cli("run", "--frames", "1", "--json", "-");
        Assert.Equal("", error);
        Assert.Equal(0, exit);
        var fates = Json(output).GetProperty("processes").EnumerateArray().Select(p => p.GetProperty("fate").GetString()).ToList();
        Assert.Contains("OOM-killed", fates);
    }

    [Theory]
    [InlineData(3, 9)]
    [InlineData(4, 10)]
    public void A_reference_string_under_fifo_shows_beladys_anomaly(int frames, int faults)
    {
        var (exit, output, error) = Cli("run", "--refs", "1,2,3,4,1,2,5,1,2,3,4,5", "--frames", frames.ToString(), "--policy", "fifo", "--json", "-");
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        var json = Json(output);
        Assert.Equal(faults, At(json, "faults.total"));
        Assert.Equal(5, At(json, "faults.minor"));        // five distinct pages
    }

    [Fact]
    public void The_readme_reference_string_example_gives_15_faults()
    {
        var run = Cli("run", "--refs", "7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1", "--frames", "3", "--policy", "fifo", "--json", "-");
        Assert.Equal(15, At(Json(run.Out), "faults.total"));
    }

    [Fact]
    public void Set_options_reach_the_run()
    {
        var json = Json(Cli("run", "--set", "machine.cpus=6", "--set", "interleaving=sequential", "--seed", "3", "--json", "-").Out);
        Assert.Equal(3, json.GetProperty("seed").GetInt64());
        Assert.Equal(6, json.GetProperty("cpus").GetInt32());
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "missing config", "no such config file" },
        { "unknown key in file", ":3: unknown key 'faultsim.machine.cpuz'; did you mean 'faultsim.machine.cpus'?" },
        { "unknown key in --set", "--set machine.cpuz=2: unknown key" },
        { "malformed file", ":2: '{' opened here is never closed" },
        { "bad value", ":1: faultsim.machine.cpus is '0'" },
        { "bad --refs", "bad page 'x' in reference string '1,x,3'" },
        { "--refs without --frames", "--refs needs a frame limit: add --frames N" },
        { "bad --frames", "--frames takes a whole number from 0 to 268435456, not 'lots'" },
        { "bad --policy", "mru" },
        { "unknown option", "--bogus" },
        { "script error", ":4: unknown operation 'jump'" },
        { "runtime workload error", ":10: process 'p' has no region 'other' at this point" },
        { "deadlock", ":9: the workload deadlocks: cpu 0 waits at barrier 'a' (line 9)" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_exits_2_with_one_line_on_stderr_and_no_stack_trace(string what, string expected)
    {
        var dir = _dir.Root;
        string Conf(string text) => _dir.Write("bad.conf", text);
        // Two processes; the scripts go from line 7 on.
        const string Workload = "faultsim.workload {\n  processes {\n    p { regions { buf { start = 0x10000, size = 4K } } }\n"
                                + "    q { regions { other { start = 0x20000, size = 4K } } }\n  }\n  cpus {\n";
        string[] args = what switch
        {
            "missing config" => ["run", "--config", Path.Combine(dir, "absent.conf")],
            "unknown key in file" => ["run", "--config", Conf("faultsim {\n  machine {\n    cpuz = 2\n  }\n}\n")],
            "unknown key in --set" => ["run", "--set", "machine.cpuz=2"],
            "malformed file" => ["run", "--config", Conf("faultsim {\n  machine {\n    cpus = 2\n")],
            "bad value" => ["run", "--config", Conf("faultsim.machine.cpus = 0\n")],
            "bad --refs" => ["run", "--refs", "1,x,3", "--frames", "3"],
            "--refs without --frames" => ["run", "--refs", "1,2,3"],
            "bad --frames" => ["run", "--frames", "lots"],
            "bad --policy" => ["run", "--policy", "mru"],
            "unknown option" => ["run", "--bogus"],
            "script error" => ["run", "--config", Conf("faultsim.workload {\n  processes { p { regions { buf { start = 0x10000, size = 4K } } } }\n  cpus {\n    0 = \"jump\"\n  }\n}\n")],
            "runtime workload error" => ["run", "--config", Conf(Workload + "    0 = \"\"\"\n      run p\n      store buf:0\n      store other:0\n    \"\"\"\n  }\n}\n")],
            "deadlock" => ["run", "--config", Conf(Workload + "    0 = \"\"\"\n      run p\n      barrier a\n      barrier b\n    \"\"\"\n    1 = \"\"\"\n      run p\n      barrier b\n      barrier a\n    \"\"\"\n  }\n}\n")],
            _ => throw new ArgumentException(what),
        };
        AssertBadInput(Cli(args), expected);
    }

    [Fact]
    public void Bench_with_a_tiny_fault_count_exits_0_and_reports_every_workload()
    {
        var (exit, output, error) = Cli("bench", "--faults", "1000", "--runs", "1", "--json", "-");
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        var results = Json(output).GetProperty("results").EnumerateArray().ToList();
        string[] workloads = ["cow", "demand-zero", "major", "tlb-hit"];
        Assert.Equal(workloads.SelectMany(w => new[] { $"actors live {w}", $"actors deterministic {w}", $"reference  {w}" }).Order(),
            results.Select(r => $"{r.GetProperty("engine").GetString()} {r.GetProperty("mode").GetString()} {r.GetProperty("workload").GetString()}").Order());
        foreach (var result in results)
        {
            Assert.Equal(1, result.GetProperty("runs").GetInt32());
            Assert.True(result.GetProperty("faults_per_second").GetDouble() > 0);
            var expected = result.GetProperty("workload").GetString() == "tlb-hit" ? 64 : 1000;   // 16 pages on each of 4 CPUs
            Assert.Equal(expected, result.GetProperty("faults").GetInt64());
        }
    }

    [Fact]
    public void Bench_of_one_workload_reports_only_that_one_and_prints_a_table_without_json()
    {
        var (exit, output, _) = Cli("bench", "--faults", "1000", "--runs", "1", "--workload", "cow");
        Assert.Equal(0, exit);
        Assert.Contains("faultsim bench", output);
        Assert.Contains("cow", output);
        Assert.DoesNotContain("tlb-hit", output);
    }

    [Fact]
    public void Bench_of_one_mode_times_only_the_actor_engine_in_that_mode()
    {
        var (exit, output, _) = Cli("bench", "--faults", "1000", "--runs", "1", "--workload", "demand-zero", "--engine", "actors", "--mode", "deterministic", "--json", "-");
        Assert.Equal(0, exit);
        var result = Assert.Single(Json(output).GetProperty("results").EnumerateArray());
        Assert.Equal("deterministic", result.GetProperty("mode").GetString());
        Assert.InRange(result.GetProperty("messages_per_fault").GetDouble(), 7, 7.2);   // seven a fault, plus the run's set-up
    }

    [Fact]
    public void Bench_json_gives_each_actor_mode_its_messages_per_second_as_a_share_of_akkas_ceiling_against_its_target()
    {
        var (exit, output, error) = Cli("bench", "--faults", "1000", "--runs", "3", "--workload", "demand-zero", "--workload", "tlb-hit", "--json", "-");
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        var results = Json(output).GetProperty("results").EnumerateArray().ToList();
        foreach (var result in results)
        {
            var ceiling = result.GetProperty("ceiling");
            var mode = result.GetProperty("mode");
            if (mode.ValueKind == JsonValueKind.Null)
            {
                Assert.Equal(JsonValueKind.Null, ceiling.ValueKind);   // the reference machine sends no messages
                continue;
            }
            var messages = ceiling.GetProperty("messages_per_second").GetDouble();
            var akka = ceiling.GetProperty("ceiling_messages_per_second").GetDouble();
            Assert.True(messages > 0 && akka > 0, ceiling.ToString());
            Assert.Equal(Math.Round(messages / akka, 3), ceiling.GetProperty("share").GetDouble(), 3);
            if (result.GetProperty("workload").GetString() == "tlb-hit")
            {
                Assert.Equal(JsonValueKind.Null, ceiling.GetProperty("target_share").ValueKind);   // TLB hits, not messages
                continue;
            }
            var target = ceiling.GetProperty("target_share").GetDouble();
            Assert.Equal(mode.GetString() == "live" ? 0.8 : 0.5, target);
            Assert.Equal(ceiling.GetProperty("share").GetDouble() >= target, ceiling.GetProperty("target_met").GetBoolean());
        }
        Assert.Equal(4, results.Count(r => r.GetProperty("ceiling").ValueKind == JsonValueKind.Object));
    }

    [Fact]
    public void Bench_measures_what_a_deterministic_run_holds_with_its_event_log()
    {
        // Out of process: the heap this measures is the process's, and the tests running beside it here would blur it.
        var (exit, output, error) = CliHarness.OutOfProcess(TimeSpan.FromMinutes(5),
            "bench", "--faults", "20000", "--runs", "1", "--workload", "demand-zero", "--engine", "actors", "--mode", "deterministic", "--json", "-");
        Assert.True(exit == 0, error);
        var result = Assert.Single(Json(output).GetProperty("results").EnumerateArray());
        var bytes = result.GetProperty("bytes_per_resident_page").GetDouble();
        Assert.True(bytes > 0, result.ToString());
        Assert.Equal(150, result.GetProperty("bytes_per_resident_page_target").GetInt32());
        Assert.Equal(bytes <= 150, result.GetProperty("bytes_per_resident_page_target_met").GetBoolean());
    }

    [Fact]
    public void Bench_prints_the_ceiling_table_with_the_targets()
    {
        var (exit, output, _) = Cli("bench", "--faults", "1000", "--runs", "1", "--workload", "demand-zero", "--engine", "actors");
        Assert.Equal(0, exit);
        Assert.Contains("actor messages against Akka.NET's ceiling", output);
        Assert.Matches(@"actors live +│ demand-zero │ +[\d,]+ │ +[\d,]+ │ +\d+ % │ ≥ 80 %: (met|missed)", output);
        Assert.Matches(@"actors deterministic │ demand-zero │ +[\d,]+ │ +[\d,]+ │ +\d+ % │ ≥ 50 %: (met|missed)", output);
    }

    [Fact]
    public void A_deterministic_run_prints_the_same_event_hash_every_time_and_the_verdict()
    {
        var first = Cli("run", "--seed", "3");
        var second = Cli("run", "--seed", "3");
        Assert.Equal(0, first.Exit);
        Assert.Contains("every invariant held", first.Out);
        var hash = System.Text.RegularExpressions.Regex.Match(first.Out, @"event log: [\d,]+ events, hash ([0-9a-f]{16})");
        Assert.True(hash.Success, first.Out);
        Assert.Contains(hash.Value, second.Out);
        Assert.DoesNotContain(hash.Groups[1].Value, Cli("run", "--seed", "4").Out);
    }

    [Fact]
    public void A_run_that_breaks_an_invariant_exits_1_with_the_event_log_up_to_it()
    {
        var events = Path.Combine(_dir.Root, "events.log");
        var (exit, output, _) = Cli("run", "--set", "bugs.cow-ignore-refcount=true", "--events", events);
        Assert.Equal(1, exit);
        Assert.Contains("invariant 3 (a COW break leaves every other sharer its content) violated", output);
        Assert.Contains("sequenceDiagram", output);
        var lines = File.ReadAllLines(events);
        Assert.Contains(lines, l => l.Contains("reuse frame", StringComparison.Ordinal) && l.Contains("(refcount", StringComparison.Ordinal)); // the wrong reuse, as decided
        Assert.Contains($"event log ({lines.Length} events", output);
    }

    [Fact]
    public void The_readmes_example_workload_config_runs()
    {
        var readme = Readme();
        var start = readme.IndexOf("```hocon\nfaultsim.workload {", StringComparison.Ordinal);
        Assert.True(start >= 0, "the README has no ```hocon example of a workload");
        start += "```hocon\n".Length;
        var example = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];
        var path = _dir.Write("example.conf", example);

        var (exit, output, error) = Cli("run", "--config", path, "--json", "-");
        Assert.Equal("", error);
        Assert.Equal(0, exit);
        var processes = Json(output).GetProperty("processes").EnumerateArray().ToList();
        Assert.Equal(["app", "child"], processes.Select(p => p.GetProperty("name").GetString()));
        Assert.Equal(16, At(processes[1], "faults.cow"));    // the child's stores break COW
        Assert.Equal(16, At(processes[0], "faults.minor"));
    }

    [Fact]
    public void A_crashed_run_exits_70_with_one_line_on_stderr_naming_the_protocol_error()
    {
        var error = new StringWriter();
        var crash = Faultsim.Host.Running.Runner.CrashOf("protocol error: tlb0 in state Idle got an unexpected Walked: Walked { … }");
        var report = new Faultsim.Host.Running.RunReport(null, null, null, 10, 1) { Crash = crash };
        Assert.Equal(70, Faultsim.Host.Cli.ExitCodes.Of(report, error));
        Assert.Equal("faultsim: the simulation failed: protocol error: tlb0 in state Idle got an unexpected Walked: Walked { … }" + Environment.NewLine,
            error.ToString());
        Assert.True(report.Failed);                       // checks that assert a run did not fail see a crash too
    }
}

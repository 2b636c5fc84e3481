using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Faultsim.Host.Traces;
using Faultsim.Model.Addressing;
using Faultsim.Model.Workloads;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Host;

/// <summary>Programs' memory traces: the formats, the reader, and `run --trace` on the shipped trace against an independent count.</summary>
public sealed class TraceTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static List<TracedAccess> Parse(string line)
    {
        var into = new TracedAccess[TraceParser.MaxAccessesPerLine];
        var count = 0;
        Assert.Null(TraceParser.Parse(Encoding.UTF8.GetBytes(line), into, ref count));
        return [.. into.Take(count)];
    }

    private static TracedAccess A(ulong address, AccessKind kind) => new(new VirtualAddress(address), kind);

    [Fact]
    public void Lackey_lines_give_fetches_loads_stores_and_a_modify_as_a_load_then_a_store()
    {
        Assert.Equal([A(0x400d7d4, AccessKind.Fetch)], Parse("I  0400d7d4,3"));
        Assert.Equal([A(0x1ffefffd20, AccessKind.Read)], Parse(" L 1ffefffd20,8"));
        Assert.Equal([A(0x601040, AccessKind.Write)], Parse(" S 00601040,4\r"));
        Assert.Equal([A(0x601040, AccessKind.Read), A(0x601040, AccessKind.Write)], Parse(" M 00601040,4"));
        Assert.Equal([A(0x400d7d4, AccessKind.Fetch)], Parse("I   0x0400D7D4,3  "));   // not as valgrind writes it, but plain enough
        Assert.Empty(Parse("==12345== Lackey, an example Valgrind tool"));
        Assert.Empty(Parse(""));
    }

    [Fact]
    public void An_access_that_spans_two_pages_touches_both()
    {
        Assert.Equal([A(0x400ffe, AccessKind.Fetch), A(0x401000, AccessKind.Fetch)], Parse("I  00400ffe,4"));
        Assert.Equal([A(0x400ffc, AccessKind.Fetch)], Parse("I  00400ffc,4"));   // ends on the page's last byte
        Assert.Equal([A(0x7ff8, AccessKind.Read), A(0x8000, AccessKind.Read), A(0x7ff8, AccessKind.Write), A(0x8000, AccessKind.Write)],
            Parse(" M 7ff8,16"));
    }

    [Fact]
    public void Pinatrace_lines_are_address_and_kind_in_either_of_its_forms()
    {
        Assert.Equal([A(0x7ffd1234, AccessKind.Read)], Parse("0x7ffd1234 R"));
        Assert.Equal([A(0x601040, AccessKind.Write)], Parse("601040 W"));
        Assert.Equal([A(0x7ffe0008, AccessKind.Write)], Parse("0x400b3c: W 0x7ffe0008"));
        Assert.Empty(Parse("#eof"));
    }

    [Theory]
    [InlineData("I  0400d7d4", "expected ADDR,SIZE")]
    [InlineData(" L zz,8", "the address is not a hex number")]
    [InlineData(" S 1000,0", "the size is not a whole number from 1 to 4096")]
    [InlineData(" X 1000,8", "not an I, L, S or M access")]
    [InlineData("0x1000 Q", "the access is not R or W")]
    [InlineData("0x800000000000 R", "past the user address space")]
    [InlineData("hello", "expected 'ADDR R|W'")]
    public void A_bad_line_says_what_is_wrong_with_it(string line, string expected)
    {
        var into = new TracedAccess[TraceParser.MaxAccessesPerLine];
        var count = 0;
        Assert.Contains(expected, TraceParser.Parse(Encoding.UTF8.GetBytes(line), into, ref count));
    }

    private string Write(string name, IEnumerable<string> lines, bool gzip = false)
    {
        var path = Path.Combine(_dir.Root, name);
        using var file = File.Create(path);
        using var stream = gzip ? new GZipStream(file, CompressionLevel.Fastest) : (Stream)file;
        using var writer = new StreamWriter(stream);
        foreach (var line in lines)
            writer.Write(line + "\n");
        return path;
    }

    /// <summary>A loop over <paramref name="pages"/> pages from <paramref name="base"/>, <paramref name="rounds"/> times: per page <paramref name="fetches"/> fetches from one code page, a load and a store.</summary>
    private static IEnumerable<string> Loop(ulong @base, int pages, int rounds, int fetches = 1)
    {
        yield return "==1== Lackey, an example Valgrind tool";
        for (var r = 0; r < rounds; r++)
        {
            for (var p = 0; p < pages; p++)
            {
                for (var f = 0; f < fetches; f++)
                    yield return $"I  {0x401000 + p * 4 + f * 0x100:x8},4";
                yield return $" L {@base + (ulong)p * 4096 + 8:x},8";
                yield return $" S {@base + (ulong)p * 4096 + 16:x},8";
            }
        }
        yield return "==1== ";
    }

    [Fact]
    public void A_pass_holds_a_bounded_number_of_batches_however_long_the_trace()
    {
        var path = Write("long.lackey", Loop(0x1000_0000, 50, 2000));    // 300,000 accesses: 19 batches
        using var file = TraceFile.Check(path, "--trace");
        long accesses = 0;
        TraceReader pass;
        using (pass = (TraceReader)file.Open())
        {
            for (var batch = pass.NextBatch(); !batch.IsEmpty; batch = pass.NextBatch())
                accesses += batch.Length;
        }
        Assert.Equal(300_000, accesses);
        Assert.InRange(pass.BatchesMade, 1, TraceReader.Capacity + 2);
        Assert.Equal(new FileInfo(path).Length, pass.BytesRead);
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    private static long At(JsonElement json, string dotted)
    {
        foreach (var part in dotted.Split('.'))
            json = json.GetProperty(part);
        return json.GetInt64();
    }

    [Fact]
    public void Both_engines_replay_a_trace_alike_and_a_gzipped_copy_the_same()
    {
        var lines = Loop(0x2000_0000, 40, 30, fetches: 13).ToList();      // 18,000 accesses: more than one batch
        var plain = Write("loop.lackey", lines);
        var gzipped = Write("loop.lackey.gz", lines, gzip: true);
        var reference = Cli("run", "--trace", plain, "--engine", "reference", "--frames", "30", "--policy", "lru", "--set", "machine.zero-page=off", "--json", "-");
        Assert.Equal((0, ""), (reference.Exit, reference.Err));
        var actors = Cli("run", "--trace", gzipped, "--frames", "30", "--policy", "lru", "--set", "machine.zero-page=off", "--json", "-");
        Assert.Equal((0, ""), (actors.Exit, actors.Err));
        var (r, a) = (Json(reference.Out), Json(actors.Out));
        foreach (var figure in new[] { "faults.minor", "faults.major", "faults.total", "accesses", "steps", "tlb.hits", "tlb.misses", "pages.evicted" })
            Assert.True(At(r, figure) == At(a, figure), $"{figure}: reference {At(r, figure)}, actors {At(a, figure)}");
        Assert.Equal(r.GetProperty("memory").GetProperty("hash").GetString(), a.GetProperty("memory").GetProperty("hash").GetString());
        Assert.Equal(18_000, At(r, "accesses"));
        // LRU over a loop of 40 data pages in 29 frames (the code page stays): every touch of a data page pages it in
        Assert.Equal(1 + 40 * 30, At(r, "faults.by_resolution.demand_zero") + At(r, "faults.by_resolution.major"));
    }

    [Fact]
    public void Several_traces_run_as_threads_or_as_processes_on_cpus_of_their_own()
    {
        var first = Write("a.lackey", Loop(0x1000_0000, 4, 2));
        var second = Write("b.lackey", Loop(0x3000_0000, 6, 2));
        var threads = Json(Cli("run", "--trace", first, "--trace", second, "--engine", "reference", "--set", "machine.zero-page=off", "--json", "-").Out);
        Assert.Equal(4, threads.GetProperty("cpus").GetInt32());     // the machine's, traces on CPUs 0 and 1
        Assert.Equal(10 + 1, At(threads.GetProperty("processes")[0], "faults.total"));   // one code page, shared by both
        var processes = Json(Cli("run", "--trace", first, "--trace", second, "--trace-mode", "processes", "--set", "machine.zero-page=off", "--json", "-").Out);
        var each = processes.GetProperty("processes").EnumerateArray().Select(p => (p.GetProperty("name").GetString(), At(p, "faults.total"))).ToList();
        Assert.Equal([("trace0", 4 + 1L), ("trace1", 6 + 1L)], each);
    }

    [Fact]
    public void Bench_of_a_trace_reports_each_engine_beside_its_tlb_hit_ceiling_and_target()
    {
        var path = Write("bench.lackey", Loop(0x1000_0000, 8, 50, fetches: 3));     // 2,000 accesses
        var (exit, output, error) = Cli("bench", "--trace", path, "--runs", "1", "--json", "-");
        Assert.Equal((0, ""), (exit, error));
        var json = Json(output);
        Assert.Equal(path, json.GetProperty("trace").GetString());
        Assert.True(json.GetProperty("read_accesses_per_second").GetDouble() > 0);
        var results = json.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["actors deterministic", "actors live", "reference "], results.Select(r => $"{r.GetProperty("engine").GetString()} {r.GetProperty("mode").GetString()}").Order());
        foreach (var result in results)
        {
            Assert.Equal(2_000, At(result, "accesses"));
            Assert.Equal(9 + 8, At(result, "faults"));         // the code page and 8 data pages, each data page's load on the zero page, then its COW break
            Assert.True(result.GetProperty("ceiling_accesses_per_second").GetDouble() > 0);
            Assert.Equal(result.GetProperty("engine").GetString() == "reference" ? 8e6 : 4e6, result.GetProperty("target_accesses_per_second").GetDouble());
        }
        var limited = Cli("bench", "--trace", path, "--runs", "1", "--engine", "reference", "--set", "machine.frames=4", "--set", "machine.zero-page=off", "--json", "-");
        Assert.Equal((0, ""), (limited.Exit, limited.Err));
        // 9 pages in 4 frames, by LRU: the code page and 8 demand-zero pages, then each later touch of a data page a major
        // fault for its load (swapped in read-only) and a cow_reuse for its store
        Assert.Equal(1 + 8 + 8 * 49 * 2, At(Json(limited.Out).GetProperty("results")[0], "faults"));
    }

    [Theory]
    [InlineData("run", "reference")]
    [InlineData("run", "actors")]
    [InlineData("bench", "reference")]
    public void Ctrl_c_stops_a_trace_run_or_bench_at_once_with_its_output_marked_partial(string command, string engine)
    {
        var path = Write("loop.lackey", Loop(0x1000_0000, 8, 50, fetches: 3));
        using var output = new StringWriter();
        using var error = new StringWriter();
        string[] args = command == "run" ? ["run", "--trace", path, "--engine", engine, "--json", "-"] : ["bench", "--trace", path, "--engine", engine, "--runs", "1", "--json", "-"];
        var exit = Faultsim.Host.Cli.FaultsimCli.Run(args, output, error, _ => null, new CancellationToken(canceled: true));
        Assert.Equal(130, exit);
        var json = Json(output.ToString());
        Assert.True(json.GetProperty("partial").GetBoolean());
        if (command == "bench")
            Assert.Empty(json.GetProperty("results").EnumerateArray());
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "reference", ":4: bad trace line ' L 10000008,eight': the size is not a whole number from 1 to 4096" },
        { "actors", ":4: bad trace line ' L 10000008,eight': the size is not a whole number from 1 to 4096" },
        { "live", ":4: bad trace line ' L 10000008,eight': the size is not a whole number from 1 to 4096" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void A_bad_trace_line_is_one_line_naming_the_file_and_line_and_exit_2_on_every_engine(string engine, string expected)
    {
        var path = Write("bad.lackey", ["==1== header", "I  00401000,4", " S 10000010,8", " L 10000008,eight", " L 10000010,8"]);
        string[] how = engine == "live" ? ["--mode", "live"] : ["--engine", engine];
        AssertBadInput(Cli(["run", "--trace", path, .. how]), path + expected);
    }

    [Fact]
    public void Trace_options_that_cannot_work_are_bad_input()
    {
        var path = Write("ok.lackey", ["I  00401000,4"]);
        AssertBadInput(Cli("run", "--trace", Path.Combine(_dir.Root, "absent.lackey")), "--trace: cannot read trace file");
        AssertBadInput(Cli("run", "--trace-mode", "processes"), "--trace-mode says how several --trace run");
        AssertBadInput(Cli("run", "--trace", path, "--refs", "1,2"), "--trace and --refs each replace the workload");
        AssertBadInput(Cli("run", "--trace", path, "--trace-mode", "fibers"), "fibers");
        AssertBadInput(Cli("bench", "--trace", path, "--cpus", "2"), "bench --trace times the trace alone; leave out --tracing, --workload, --faults and --cpus");
        AssertBadInput(Cli("bench", "--trace", path, "--set", "chaos.loader-crash-rate=0.5"), "faultsim.chaos.loader-crash-rate: bench times workloads of a known number of faults");
    }

    private static void AssertBadInput((int Exit, string Out, string Err) run, string expected)
    {
        Assert.Equal(2, run.Exit);
        var lines = run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{run.Err}");
        Assert.StartsWith("faultsim: ", lines[0]);
        Assert.Contains(expected, lines[0]);
    }
}

using Faultsim.Host.Cli;

namespace Faultsim.Tests.Host;

/// <summary>
/// One malformed input of the corpus: the files it writes (name → text; bytes for binary ones), the command line (with
/// {dir} for the directory the files are in), the environment, the words the one line of stderr must hold, and the
/// file:line it must name where the input has one (null where it has none).
/// </summary>
public sealed record BadInput(string Name, string[] Args, string Expected, string? At = null)
{
    public Dictionary<string, string> Files { get; init; } = [];
    public Dictionary<string, byte[]> BinaryFiles { get; init; } = [];
    public Dictionary<string, string> Environment { get; init; } = [];

    public override string ToString() => Name;
}

/// <summary>
/// The corpus of malformed inputs — configs, scripts, scenario files, arguments, environment variables — each of which
/// must end with exit 2, exactly one line on stderr naming the file and line where there is one, no stack trace, nothing
/// on standard output and no output file left behind.
/// </summary>
public sealed class BadInputCorpusTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string Workload = "faultsim.workload {\n  processes {\n    p { regions { buf { start = 0x10000, size = 4K } } }\n  }\n  cpus {\n";

    private static BadInput Conf(string name, string text, string expected, int? line, params string[] extra) =>
        new(name, ["run", "--config", "{dir}/bad.conf", .. extra], expected, line is { } l ? $"{{dir}}/bad.conf:{l}:" : "{dir}/bad.conf")
        {
            Files = { ["bad.conf"] = text },
        };

    private static BadInput Script(string name, string script, string expected, int line) =>
        Conf(name, Workload + "    0 = \"\"\"\n" + script + "\n    \"\"\"\n  }\n}\n", expected, line);

    private static BadInput Set(string name, string assignment, string expected, string command = "run") =>
        new(name, command == "run" ? ["run", "--set", assignment] : [command, "--scenario", "herd", "--seed", "1", "--set", assignment], expected, null);

    private static BadInput Scenario(string name, string text, string expected, int? line) =>
        new(name, ["explore", "--scenario", "{dir}/bad.conf", "--seeds", "2"], expected, line is { } l ? $"{{dir}}/bad.conf:{l}:" : "{dir}/bad.conf")
        {
            Files = { ["bad.conf"] = text },
        };

    private static BadInput Trace(string name, string text, string expected, int line, params string[] extra) =>
        new(name, ["run", "--trace", "{dir}/bad.trace", .. extra], expected, $"{{dir}}/bad.trace:{line}:")
        {
            Files = { ["bad.trace"] = text },
        };

    private static BadInput Env(string name, string variable, string value, string expected) =>
        new(name, ["run"], expected) { Environment = { [variable] = value } };

    public static readonly BadInput[] Corpus =
    [
        // A value of the wrong kind where a section is expected, or the reverse.
        Conf("machine is a number", "faultsim.machine = 5\n", "faultsim.machine should be a section { … }, not a single value", 1),
        Conf("telemetry is a list", "faultsim {\n  telemetry = [1,2]\n}\n", "faultsim.telemetry should be a section { … }, not a list [ … ]", 2),
        Conf("cpus is null", "faultsim.machine.cpus = null\n", "faultsim.machine.cpus is null", 1),
        Trace("a trace access of no size", "I  04000000,4\n L 10000008,eight\n", "the size is not a whole number from 1 to 4096", 2),
        Trace("a trace access of an unknown kind", " X 10000008,8\n", "not an I, L, S or M access", 1),
        Trace("a trace address past the user address space", " L 900000000000,8\n", "is past the user address space", 1),
        Trace("a pinatrace line without a hex address", "zz R\n", "the address is not a hex number", 1),
        Trace("a bad trace line on the live engine", "==1== lackey\n S 10000000,8\n L oops,8\n", "the address is not a hex number", 3, "--mode", "live"),
        Conf("a form feed between values", "faultsim.machine {\n  cpus = 2\f frames = 8\n}\n", "has the control character U+000C", 2),
        Conf("a vertical tab after a value", "faultsim.machine.cpus = 2,\v\n", "has the control character U+000B", 1),
        Conf("workload is a number", "faultsim.workload = 5\n", "faultsim.workload should be a section", 1),
        Conf("a process is a number", "faultsim.workload.processes.app = 5\n", "faultsim.workload.processes.app should be a section", 1),
        Conf("a script is a section", "faultsim.workload.cpus.0 { x = 1 }\n", "faultsim.workload.cpus.0 should be a single value, not a section", 1),
        Conf("cpus is a section", "faultsim.machine.cpus { n = 4 }\n", "faultsim.machine.cpus should be a single value, not a section", 1),
        Conf("exporters is a value", "faultsim.telemetry.exporters = otlp\n", "faultsim.telemetry.exporters should be a list [ … ]", 1),
        Conf("the whole of faultsim is a value", "faultsim = 1\n", "faultsim should be a section", 1),
        Set("--set machine=5", "machine=5", "--set machine=5: faultsim.machine should be a section"),
        Set("--set machine.cpus=null", "machine.cpus=null", "faultsim.machine.cpus is null"),
        Set("--set telemetry=[1,2]", "telemetry=[1,2]", "faultsim.telemetry should be a section"),
        Set("--set workload=5 on replay", "workload=5", "faultsim.workload should be a section", "replay"),
        // Deep nesting.
        Conf("100,000 nested sections", "a " + string.Concat(Enumerable.Repeat("{ b ", 100_000)), "nested more than 64 levels deep", 1),
        Conf("100,000 opening braces", new string('{', 100_000), "expected a key, found '{'", 1),
        Conf("100,000 nested lists", "faultsim.checks.unchanged-files = " + new string('[', 100_000), "nested more than 64 levels deep", 1),
        Scenario("a scenario of 100,000 nested lists", "a = " + new string('[', 100_000), "nested more than 64 levels deep", 1),
        Scenario("a scenario of 100,000 nested sections", "faultsim " + string.Concat(Enumerable.Repeat("{ a ", 100_000)), "nested more than 64 levels deep", 1),
        // Quoted keys, absurd durations, akka.*, substitutions.
        Conf("a quoted dotted key", "# cpus\n\"faultsim.machine.cpus\" = 8\n", "the quoted key \"faultsim.machine.cpus\" is one key", 2),
        Conf("a quoted dotted key inside a section", "faultsim {\n  \"machine.cpus\" = 8\n}\n", "the quoted key \"machine.cpus\"", 2),
        Conf("an ipi of 1e30 s", "faultsim.latency.ipi = 1e30s\n", "faultsim.latency.ipi is '1e30s'; use at most 10s", 1),
        Conf("a page copy of infinity", "faultsim.latency.page-copy = Infinitys\n", "faultsim.latency.page-copy is 'Infinitys'", 1),
        Conf("a negative latency", "faultsim.latency.tlb-hit = -1ns\n", "faultsim.latency.tlb-hit is '-1ns'", 1),
        Conf("a disk latency of a year", "faultsim.machine.disk.latency = 31536000s\n", "use at most 10s", 1),
        Conf("fault-around not a power of two", "faultsim.machine {\n  fault-around = 12K\n}\n", "faultsim.machine.fault-around is 12288 bytes; use a power of two from 4K to 2M", 2),
        Conf("a readahead window past its maximum", "faultsim.machine.readahead.window = 1M\n", "faultsim.machine.readahead.window is 1048576 bytes, more than readahead.max (131072 bytes)", 1),
        Script("an unknown madvise advice", "      run p\n      madvise buf hugepage", "unknown advice 'hugepage'; use dontneed, pageout, normal, sequential, random or willneed", 8),
        Conf("a wait bound of NaN", "faultsim.actors.wait-bound = NaNs\n", "faultsim.actors.wait-bound is 'NaNs'", 1),
        Conf("a bad akka log level", "akka {\n  loglevel = 5\n}\n", "akka.loglevel is '5'; Akka.NET takes a log level", 2),
        Conf("an unknown akka key", "akka.actor.provder = local\n", "unknown key 'akka.actor.provder': Akka.NET has no such setting; did you mean 'akka.actor.provider'?", 1),
        Conf("a bad akka duration", "akka.actor.creation-timeout = soon\n", "akka.actor.creation-timeout is 'soon'; Akka.NET takes a duration", 1),
        Conf("a bad akka switch", "akka.log-dead-letters-during-shutdown = maybe\n", "Akka.NET takes on or off", 1),
        Conf("an akka section given a value", "akka.actor = 3\n", "akka.actor should be a section", 1),
        Set("--set akka.loglevel=LOUD", "akka.loglevel=LOUD", "akka.loglevel is 'LOUD'"),
        Conf("an undefined substitution", "faultsim {\n  seed = 1\n  machine.cpus = ${undefined}\n}\n", "${undefined} names no key set in this file", 3),
        Conf("an unclosed substitution", "faultsim.seed = ${seed\n", "substitution is never closed", 1),
        // Binary input and control bytes.
        new("a binary config", ["run", "--config", "{dir}/bad.conf"], "has a NUL byte", "{dir}/bad.conf:2:")
        {
            BinaryFiles = { ["bad.conf"] = [0x23, 0x0a, 0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0x1b, 0x5b] },
        },
        Conf("control bytes in a value", "faultsim.machine.policy = \"\u001b[2J\u0007lru\"\n", "has the control character U+001B", 1),
        Conf("control bytes in a key", "faultsim.mach\u001bine.cpus = 2\n", "has the control character U+001B", 1),
        // Unknown keys and malformed text.
        Conf("an unknown key", "faultsim {\n  machine {\n    cpuz = 2\n  }\n}\n", "unknown key 'faultsim.machine.cpuz'", 3),
        Conf("an unclosed section", "faultsim {\n  machine {\n    cpus = 2\n", "'{' opened here is never closed", 2),
        Conf("an unclosed list", "faultsim.checks.unchanged-files = [a,\n", "'[' opened here is never closed", 1),
        Conf("an unclosed string", "faultsim.engine = \"actors\n", "string is never closed", 1),
        Conf("a key without a value", "faultsim.seed =\n", "key 'faultsim.seed' has no value", 1),
        Conf("a stray bracket", "faultsim.seed = 1\n}\n", "unexpected '}'", 2),
        Conf("an include", "include \"other.conf\"\n", "'include' is not supported", 1),
        Conf("a key outside faultsim", "machine.cpus = 2\n", "unknown key 'machine.cpus'", 1),
        // Bad values.
        Conf("zero cpus", "faultsim.machine.cpus = 0\n", "faultsim.machine.cpus is '0'", 1),
        Conf("a bad engine", "faultsim.engine = turbo\n", "faultsim.engine is 'turbo'", 1),
        Conf("a bad seed", "faultsim.seed = -1\n", "faultsim.seed is '-1'", 1),
        Conf("a jitter above 1", "faultsim.latency.jitter = 2\n", "faultsim.latency.jitter is '2'", 1),
        Conf("a tlb that is not a power of two", "faultsim.machine.tlb.entries = 48\n", "is 48; use a power of two", 1),
        Conf("an unaligned region", Workload + "  }\n}\nfaultsim.workload.processes.p.regions.buf.start = 0x10001\n", "not page-aligned", 8),
        Conf("a region of size 0", "faultsim.workload {\n  processes { p { regions { buf { start = 0x10000, size = 0 } } } }\n}\n", "use a positive multiple of the 4K page size", 2),
        Conf("a region with both start and end", "faultsim.workload {\n  processes { p { regions { buf { start = 0x10000, end = 0x20000, size = 4K } } } }\n}\n", "needs exactly one of start and end", 2),
        Conf("a bad process name", "faultsim.workload {\n  processes { 9p { regions { buf { start = 0x10000, size = 4K } } } }\n}\n", "has a bad process name '9p'", 2),
        Conf("a script of a cpu the machine lacks", Workload + "    9 = \"run p\"\n  }\n}\n", "there is a script for cpu 9", 6),
        // Addresses: below mmap_min_addr, past 2^47, wrapping past 2^64.
        Conf("a region at address 0", "faultsim.workload {\n  processes {\n    p { regions { buf { start = 0, size = 4K } } }\n  }\n}\n", "below mmap_min_addr", 3),
        Conf("a region past 2^47", "faultsim.workload.processes.p.regions.buf {\n  start = 0x7ffffffff000\n  size = 8K\n}\n", "past the user address space", 2),
        Conf("a region wrapping past 2^64", "faultsim.workload.processes.p.regions.buf {\n  start = 0xfffffffffffff000\n  size = 8K\n}\n", "wraps around", 2),
        Script("an mmap at address 0", "      run p\n      mmap m 0 4K rw", "mmap m is refused: the mapping starts at 0x0, below mmap_min_addr", 8),
        Script("an mmap wrapping past 2^64", "      run p\n      mmap m 0xfffffffffffff000 8K rw", "wraps around", 8),
        Script("an mmap past 2^47", "      run p\n      mmap m 0x7ffffffff000 1M rw", "past the user address space", 8),
        // Scripts.
        Script("an unknown operation", "      jump p", "unknown operation 'jump'", 7),
        Script("an mlock without a range", "      run p\n      mlock", "'mlock' needs a range", 8),
        Script("an munlock of an offset without a length", "      run p\n      munlock buf+4K", "needs a length", 8),
        Script("an mremap to an unaligned length", "      run p\n      mremap buf 5000", "mremap new length 5000 is not a positive multiple of the 4K page size", 8),
        Script("an mremap with an unknown option", "      run p\n      mremap buf 8K fixed", "unknown mremap option 'fixed'; use maymove", 8),
        Script("an mremap of an address", "      run p\n      mremap 0x10000 8K", "bad region name '0x10000'", 8),
        Script("an mmap with an unknown flag", "      run p\n      mmap m 0x20000 4K rw populated", "use anon, file:NAME[+OFFSET], shared, private, growsdown, populate or locked", 8),
        Conf("a file on an unknown filesystem", "faultsim.workload {\n  files {\n    f { size = 4K, fs = btrfs }\n  }\n}\n", "is 'btrfs'; use one of ext4, tmpfs", 3),
        Script("a store to an unknown region", "      run p\n      store heap:0", "no region 'heap'", 8),
        Script("a page range backwards", "      run p\n      store buf:3..1", "page range 3..1 runs backwards", 8),
        Script("a munmap without a range", "      run p\n      munmap", "munmap", 8),
        Script("a bad protection", "      run p\n      mprotect buf rwz", "rwz", 8),
        Conf("a barrier deadlock", Workload + "    0 = \"\"\"\n      run p\n      barrier a\n      barrier b\n    \"\"\"\n    1 = \"\"\"\n      run p\n      barrier b\n      barrier a\n    \"\"\"\n  }\n}\n",
            "the workload deadlocks", 8),
        // Scenario files.
        Scenario("a scenario with an unknown key", "faultsim.scenario.descripton = \"x\"\n", "unknown key 'faultsim.scenario.descripton'", 1),
        Scenario("a scenario with a script error", "faultsim.workload {\n  processes { p { regions { buf { start = 0x10000, size = 4K } } } }\n  cpus { 0 = \"run p\\nload nowhere:0\" }\n}\n", "nowhere", null),
        new("a missing scenario file", ["explore", "--scenario", "{dir}/absent.conf"], "no such config file", "{dir}/absent.conf"),
        new("an unknown scenario", ["explore", "--scenario", "hurd"], "no scenario 'hurd'"),
        new("a scenario that is a directory", ["replay", "--scenario", "{dir}/sub.conf", "--seed", "1"], "is a directory", "{dir}/sub.conf") { Files = { ["sub.conf/x"] = "" } },
        // Arguments.
        new("replay --seed abc", ["replay", "--scenario", "herd", "--seed", "abc"], "--seed takes a whole number from 0, not 'abc'"),
        new("replay without a seed", ["replay", "--scenario", "herd"], "--seed"),
        new("run --seed -3", ["run", "--seed", "-3"], "--seed takes a whole number from 0"),
        new("run --frames lots", ["run", "--frames", "lots"], "--frames takes a whole number from 0 to 268435456, not 'lots'"),
        new("explore --seeds 0", ["explore", "--scenario", "herd", "--seeds", "0"], "--seeds takes a whole number from 1"),
        new("explore --threads 1000", ["explore", "--scenario", "herd", "--threads", "1000"], "--threads takes a whole number from 1 to 256"),
        new("bench --faults 5", ["bench", "--faults", "5"], "--faults takes a whole number from 1000"),
        new("bench --workload nothing", ["bench", "--workload", "nothing"], "nothing"),
        new("run --max-steps 10", ["run", "--max-steps", "10"], "--max-steps takes off or a whole number from 1000"),
        new("run --policy mru", ["run", "--policy", "mru"], "mru"),
        new("run --bogus", ["run", "--bogus"], "--bogus"),
        new("an unknown command", ["runn"], "runn"),
        new("run --refs with a word", ["run", "--refs", "1,x,3", "--frames", "3"], "x"),
        new("run --refs without frames", ["run", "--refs", "1,2,3"], "--refs needs a frame limit"),
        new("run --set without =", ["run", "--set", "machine.cpus"], "'machine.cpus' is not key=value"),
        new("run --set of an unknown key", ["run", "--set", "machine.cpuz=2"], "unknown key 'faultsim.machine.cpuz'"),
        new("run --config that is missing", ["run", "--config", "{dir}/absent.conf"], "no such config file", "{dir}/absent.conf"),
        new("run --config that is a directory", ["run", "--config", "{dir}"], "is a directory"),
        new("explore --config that is missing", ["explore", "--scenario", "herd", "--config", "{dir}/absent.conf"], "no such config file", "{dir}/absent.conf"),
        new("bench --set of a frame limit", ["bench", "--set", "machine.frames=8"], "faultsim.machine.frames: bench times workloads of a known number of faults"),
        new("bench --config of a planted bug", ["bench", "--config", "{dir}/bad.conf"], "faultsim.bugs.wake-before-pte: bench times", "{dir}/bad.conf:1:")
        {
            Files = { ["bad.conf"] = "faultsim.bugs.wake-before-pte = on\n" },
        },
        new("bench --set of a null", ["bench", "--set", "latency.ipi=null"], "faultsim.latency.ipi is null"),
        new("--events with the reference engine", ["run", "--engine", "reference", "--events", "{dir}/out.log"], "the reference engine keeps no event log"),
        new("--trace-file with the reference engine", ["run", "--engine", "reference", "--trace-file", "{dir}/out.json"], "the reference engine records no spans"),
        // Outputs, checked before the run.
        new("--json into a missing directory", ["run", "--json", "{dir}/no/such/out.json"], "--json: cannot write {dir}/no/such/out.json: the directory {dir}/no/such does not exist"),
        new("--events into a directory", ["run", "--events", "{dir}"], "--events: {dir} is a directory"),
        new("--trace-file where nothing can be written", ["run", "--trace-file", "/proc/faultsim-trace.json"], "--trace-file: cannot write /proc/faultsim-trace.json"),
        new("--json and --events on one file", ["run", "--json", "{dir}/out", "--events", "{dir}/out"], "--events: {dir}/out is also the file of --json"),
        new("--trace-file and --events on one file", ["replay", "--scenario", "herd", "--seed", "1", "--trace-file", "{dir}/out", "--events", "{dir}/./out"], "--trace-file: {dir}/out is also the file of --events"),
        new("--events - and --json - together", ["run", "--events", "-", "--json", "-"], "--events: --json already writes to standard output (-)"),
        new("--json over the --config file", ["run", "--config", "{dir}/ok.conf", "--json", "{dir}/ok.conf"], "--json: {dir}/ok.conf is the file given to --config")
        {
            Files = { ["ok.conf"] = "faultsim.seed = 2\n" },
        },
        new("--json of an empty name", ["run", "--json", ""], "--json: '' is not a file name"),
        new("bench --json into a directory", ["bench", "--json", "{dir}"], "--json: {dir} is a directory"),
        new("replay --write-scenario into a missing directory", ["replay", "--swarm", "--seed", "1", "--write-scenario", "{dir}/none/s.conf"], "--write-scenario: cannot write"),
        new("replay --events into a missing directory", ["replay", "--scenario", "herd", "--seed", "1", "--events", "{dir}/none/e.log"], "--events: cannot write"),
        // Environment variables.
        Env("a bad OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER", "sometimes", "environment variable OTEL_TRACES_SAMPLER: is 'sometimes'"),
        new("a bad OTEL_TRACES_SAMPLER_ARG", ["run"], "environment variable OTEL_TRACES_SAMPLER_ARG: is 'x'")
        {
            Environment = { ["OTEL_TRACES_SAMPLER"] = "traceidratio", ["OTEL_TRACES_SAMPLER_ARG"] = "x" },
        },
        Env("a bad OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT", "not a url", "environment variable OTEL_EXPORTER_OTLP_ENDPOINT: is 'not a url'"),
        Env("a bad OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon", "environment variable OTEL_EXPORTER_OTLP_PROTOCOL: is 'carrier-pigeon'"),
        Env("control bytes in OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER", "on\u001b[31m", "is 'on\\x1b[31m'"),
    ];

    public static TheoryData<string> Names()
    {
        var names = new TheoryData<string>();
        foreach (var input in Corpus)
            names.Add(input.Name);
        return names;
    }

    [Fact]
    public void The_corpus_holds_at_least_60_malformed_inputs_each_named_once()
    {
        Assert.True(Corpus.Length >= 60, $"{Corpus.Length} inputs");
        Assert.Equal(Corpus.Length, Corpus.Select(c => c.Name).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_malformed_input_exits_2_with_one_line_naming_where_and_no_stack_trace_and_leaves_no_output(string name)
    {
        var input = Corpus.Single(c => c.Name == name);
        foreach (var (file, text) in input.Files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(_dir.Root, file))!);
            _dir.Write(file, text);
        }
        foreach (var (file, bytes) in input.BinaryFiles)
            File.WriteAllBytes(Path.Combine(_dir.Root, file), bytes);
        var before = Directory.GetFileSystemEntries(_dir.Root, "*", SearchOption.AllDirectories).Order().ToList();
        string Expand(string text) => text.Replace("{dir}", _dir.Root, StringComparison.Ordinal);
        string[] args = [.. input.Args.Select(Expand)];

        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = FaultsimCli.Run(args, output, error, v => input.Environment.GetValueOrDefault(v));

        var err = error.ToString();
        Assert.True(exit == ExitCodes.BadInput, $"exit {exit}, stderr:\n{err}\nstdout:\n{output}");
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{err}");
        var line = lines[0];
        Assert.StartsWith("faultsim: ", line);
        Assert.Contains(Expand(input.Expected), line);
        if (input.At is { } at)
            Assert.Contains(Expand(at), line);
        Assert.DoesNotContain("Exception", line);
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain(line, c => char.IsControl(c) && c != '\r');
        Assert.Equal("", output.ToString());
        Assert.Equal(before, Directory.GetFileSystemEntries(_dir.Root, "*", SearchOption.AllDirectories).Order().ToList());
    }
}

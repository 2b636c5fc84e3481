using System.IO.Compression;
using System.Text.Json;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Host;

/// <summary>
/// The shipped trace (traces/pages.lackey.gz, valgrind lackey of traces/pages.c) replayed by `run --trace`, its counts
/// held against a computation of this test's own: the trace read line by line with string operations, its page
/// references, and textbook FIFO, LRU and OPT over them. A textbook fault is a page brought in — faultsim's demand_zero
/// (the first touch, with the zero page off) plus major (a re-touch of an evicted page).
/// </summary>
public sealed class ShippedTraceTests
{
    private const int Frames = 32;

    private static readonly Lazy<List<ulong>> References = new(ReadReferences);

    private static string TracePath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Actors.sln")))
                return Path.Combine(dir.FullName, "traces", "pages.lackey.gz");
        }
        throw new InvalidOperationException("no Actors.sln above " + AppContext.BaseDirectory);
    }

    /// <summary>Every page the trace references, in order: each page an access spans, and a modify twice (its load, then its store).</summary>
    private static List<ulong> ReadReferences()
    {
        var pages = new List<ulong>();
        using var reader = new StreamReader(new GZipStream(File.OpenRead(TracePath()), CompressionMode.Decompress));
        while (reader.ReadLine() is { } line)
        {
            if (line.StartsWith("==", StringComparison.Ordinal))
                continue;
            var kind = line[..2].Trim();
            var parts = line[2..].Trim().Split(',');
            var address = Convert.ToUInt64(parts[0], 16);
            var size = ulong.Parse(parts[1]);
            var touched = Enumerable.Range(0, (int)(((address + size - 1) >> 12) - (address >> 12) + 1)).Select(i => (address >> 12) + (ulong)i).ToList();
            for (var times = kind == "M" ? 2 : 1; times > 0; times--)
                pages.AddRange(touched);
        }
        return pages;
    }

    private static long Fifo(List<ulong> refs, int frames)
    {
        var queue = new Queue<ulong>();
        var resident = new HashSet<ulong>();
        long faults = 0;
        foreach (var page in refs)
        {
            if (resident.Contains(page))
                continue;
            faults++;
            if (resident.Count == frames)
                resident.Remove(queue.Dequeue());
            resident.Add(page);
            queue.Enqueue(page);
        }
        return faults;
    }

    private static long Lru(List<ulong> refs, int frames)
    {
        var lastUse = new Dictionary<ulong, long>();
        long faults = 0, now = 0;
        foreach (var page in refs)
        {
            if (!lastUse.ContainsKey(page))
            {
                faults++;
                if (lastUse.Count == frames)
                    lastUse.Remove(lastUse.MinBy(e => e.Value).Key);
            }
            lastUse[page] = now++;
        }
        return faults;
    }

    private static long Opt(List<ulong> refs, int frames)
    {
        var next = new long[refs.Count];
        var seen = new Dictionary<ulong, long>();
        for (var i = refs.Count - 1; i >= 0; i--)
        {
            next[i] = seen.TryGetValue(refs[i], out var n) ? n : long.MaxValue;
            seen[refs[i]] = i;
        }
        var nextUse = new Dictionary<ulong, long>();
        long faults = 0;
        for (var i = 0; i < refs.Count; i++)
        {
            if (!nextUse.ContainsKey(refs[i]))
            {
                faults++;
                if (nextUse.Count == frames)
                    nextUse.Remove(nextUse.MaxBy(e => e.Value).Key);
            }
            nextUse[refs[i]] = next[i];
        }
        return faults;
    }

    private static JsonElement Run(string policy)
    {
        var (exit, output, error) = Cli("run", "--trace", TracePath(), "--engine", "reference", "--frames", Frames.ToString(), "--policy", policy,
            "--set", "machine.zero-page=off", "--json", "-");
        Assert.Equal((0, ""), (exit, error));
        return JsonDocument.Parse(output).RootElement;
    }

    private static long PagedIn(JsonElement json) =>
        json.GetProperty("faults").GetProperty("by_resolution").GetProperty("demand_zero").GetInt64()
        + json.GetProperty("faults").GetProperty("by_resolution").GetProperty("major").GetInt64();

    [Fact]
    public void The_shipped_trace_under_fifo_touches_its_distinct_pages_once_each_and_faults_as_textbook_fifo()
    {
        var refs = References.Value;
        var json = Run("fifo");
        Assert.Equal(refs.Count, json.GetProperty("accesses").GetInt64());
        Assert.Equal(refs.Distinct().Count(), json.GetProperty("faults").GetProperty("by_resolution").GetProperty("demand_zero").GetInt64());
        Assert.Equal(Fifo(refs, Frames), PagedIn(json));
    }

    [Fact]
    public void The_shipped_trace_under_lru_faults_as_textbook_lru() => Assert.Equal(Lru(References.Value, Frames), PagedIn(Run("lru")));

    [Fact]
    public void The_shipped_trace_under_opt_faults_as_beladys_optimum() => Assert.Equal(Opt(References.Value, Frames), PagedIn(Run("opt")));
}

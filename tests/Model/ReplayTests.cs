using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>A CPU replaying a stream of accesses (a program's trace) through the model, as both engines do.</summary>
public sealed class ReplayTests
{
    private static readonly ulong Base = 0x40_0000;

    private static TracedAccess A(ulong address, AccessKind kind) => new(new VirtualAddress(address), kind);

    /// <summary>Loads, stores and fetches over a few pages of the traced region, some pages twice.</summary>
    private static TracedAccess[] Sample() =>
    [
        A(Base, AccessKind.Fetch), A(Base + 0x2008, AccessKind.Read), A(Base + 0x2008, AccessKind.Write),
        A(Base + 0x5000, AccessKind.Write), A(Base + 8, AccessKind.Fetch), A(Base + 0x5010, AccessKind.Read),
        A(Base + 0x9ff8, AccessKind.Write), A(Base + 0x2010, AccessKind.Write),
    ];

    [Fact]
    public void A_replay_runs_exactly_as_the_same_accesses_written_as_a_script()
    {
        var accesses = Sample();
        var replayed = TraceWorkload.ToWorkload([new ListSource(accesses, batch: 3)], TraceMode.Threads, new MachineSpec { Cpus = 2 });
        var lines = accesses.Select(a => $"{(a.Kind switch { AccessKind.Read => "load", AccessKind.Write => "store", _ => "fetch" })} 0x{a.Address.Value:x}");
        var scripted = replayed with
        {
            Scripts = [new CpuScript(new CpuId(0), ScriptParser.Parse($"run {TraceWorkload.Process}\n" + string.Join('\n', lines), 1))],
        };
        var expected = scripted.Run();
        var actual = replayed.Run();
        Assert.Empty(RunComparison.Differences(actual, expected).Select(d => d.Description));
        Assert.Equal(accesses.Length + 1, actual.Steps);      // the run, then one step per access
        Assert.Equal(5, actual.Totals.Minor);                 // pages 0, 2, 5 and 9 of the region, page 2 read first (the zero page), then written (a COW break)
    }

    [Fact]
    public void A_program_reads_a_replay_a_batch_at_a_time_and_closes_it_at_its_end()
    {
        var source = new ListSource(Sample(), batch: 3);
        var program = new CpuProgram(new CpuId(1), [new Op.Run(1, "p"), new Op.Replay(2, source)], 8, _ => new ProcessId(1));
        Assert.Equal(CpuStepKind.Switch, program.Next().Kind);
        program.Switched("p", alive: true, default, new Dictionary<string, (VirtualAddress, ulong)>());
        Assert.Equal(0, source.Opened);                       // opened only when the replay comes up

        var first = program.Next();
        Assert.Equal(CpuStepKind.Access, first.Kind);
        Assert.Equal((new VirtualAddress(Base), AccessKind.Fetch), (first.Access.Address, first.Access.Kind));
        var peeked = new List<ScriptAccess>();
        Assert.Equal(3, program.PeekAccesses(peeked, 64));    // up to the end of the batch read, however large the quantum
        Assert.Equal((ulong)2 << 40 | 1, peeked[2].Value);    // cpu 1's first store
        program.Accessed(3, endedEarly: false);
        Assert.Equal(1, source.Batches);

        var seen = 3;
        while (program.Next() is { Kind: CpuStepKind.Access } step)
        {
            Assert.Equal(Sample()[seen].Address, step.Access.Address);
            program.Accessed(1, endedEarly: false);
            seen++;
        }
        Assert.Equal(Sample().Length, seen);
        Assert.True(program.Done);
        Assert.Equal((1, 1), (source.Opened, source.Closed));
        Assert.Equal(1 + seen, program.Steps);
    }

    [Fact]
    public void A_process_that_dies_mid_replay_closes_its_stream_and_reads_no_more_of_it()
    {
        // The fourth access is below the region (a null pointer): SIGSEGV, and the process is gone.
        TracedAccess[] accesses = [A(Base, AccessKind.Fetch), A(Base + 8, AccessKind.Fetch), A(Base + 16, AccessKind.Read), A(0x10, AccessKind.Read),
            .. Enumerable.Range(0, 100).Select(i => A(Base + 0x1000 * (ulong)i, AccessKind.Write))];
        var source = new ListSource(accesses, batch: 4);
        var result = TraceWorkload.ToWorkload([source], TraceMode.Threads, new MachineSpec()).Run();
        Assert.Equal(1, result.Totals.Segv);
        Assert.Equal(ProcessFate.KilledBySigSegv, result.Processes.Single().Fate);
        Assert.Equal((1, 1, 1), (source.Opened, source.Closed, source.Batches));
    }

    [Fact]
    public void Traces_run_as_threads_of_one_process_or_as_processes_of_their_own()
    {
        ListSource Own(int cpu) => new([.. Enumerable.Range(0, 5).Select(i => A(Base + (ulong)(cpu * 16 + i) * 0x1000, AccessKind.Write))], batch: 2);
        var machine = new MachineSpec { Cpus = 1 };
        var threads = TraceWorkload.ToWorkload([Own(0), Own(1), Own(2)], TraceMode.Threads, machine).Run();
        Assert.Equal(3, threads.Cpus);                        // one CPU per trace, whatever the machine had
        Assert.Equal(15, threads.Processes.Single().Counters.Minor);
        var processes = TraceWorkload.ToWorkload([Own(0), Own(1), Own(2)], TraceMode.Processes, machine).Run();
        Assert.Equal(["trace0", "trace1", "trace2"], processes.Processes.Select(p => p.Name));
        Assert.All(processes.Processes, p => Assert.Equal(5, p.Counters.Minor));
    }

    [Fact]
    public void Opt_replays_the_stream_twice_once_to_learn_the_future()
    {
        var source = new ListSource([.. Enumerable.Range(0, 12).Select(i => A(Base + (ulong)(i % 4) * 0x1000, AccessKind.Write))], batch: 5);
        var machine = new MachineSpec { Frames = 3, Policy = Faultsim.Model.Replacement.ReplacementPolicyKind.Opt };
        var result = TraceWorkload.ToWorkload([source], TraceMode.Threads, machine).Run();
        Assert.Equal((2, 2), (source.Opened, source.Closed));
        Assert.Equal(6, result.Totals.Minor + result.Totals.Major); // 0 1 2 3 0 1 2 3 0 1 2 3 in three frames: 4 first touches, then 2 more
    }
}

/// <summary>A replay source over a list, read in batches of a given size, counting what was opened, read and closed.</summary>
internal sealed class ListSource(TracedAccess[] accesses, int batch) : IAccessSource
{
    private readonly TracedAccess[] _accesses = accesses;
    private readonly int _batch = batch;

    public string Name => "list";
    public int Opened { get; private set; }
    public int Closed { get; private set; }
    public int Batches { get; private set; }

    public IAccessReader Open()
    {
        Opened++;
        return new Reader(this);
    }

    private sealed class Reader(ListSource source) : IAccessReader
    {
        private int _next;

        public ReadOnlyMemory<TracedAccess> NextBatch()
        {
            var count = Math.Min(source._batch, source._accesses.Length - _next);
            if (count == 0)
                return ReadOnlyMemory<TracedAccess>.Empty;
            source.Batches++;
            var memory = source._accesses.AsMemory(_next, count);
            _next += count;
            return memory;
        }

        public void Dispose() => source.Closed++;
    }
}

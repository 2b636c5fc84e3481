using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;
using Faultsim.Model.Workloads.Generators;

namespace Faultsim.Tests.Model;

/// <summary>Tests that weigh the process's live heap run alone: another test's objects would count as theirs.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapCollection
{
    public const string Name = "heap";
}

/// <summary>
/// Generated workloads take constant memory whatever their size: a CPU reading a stream of 10^8 accesses' worth of
/// operations holds the one at hand, and the live heap after the last is what it was after the first — where the same
/// operations made whole would take hundreds of megabytes. Nothing here is timed.
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class ConstantMemoryTests
{
    private static readonly GeneratorSpec Spec = GeneratorSpec.Defaults;

    public static TheoryData<string, GeneratorSpec, int> Huge() => new()
    {
        // 2^20 rounds of a herd on each of 96 CPUs: 10^8 accesses, CPU 0's 2 million operations read here
        { "herd", Spec with { Kind = GeneratorKind.Herd, Rounds = 1 << 20, FileBacked = false }, 96 },
        // 100,000 rounds of 1,024 pages on one CPU: 10^8 accesses in 300,000 operations
        { "churn", Spec with { Kind = GeneratorKind.Churn, Rounds = 100_000, MapPages = 1 << 10 }, 1 },
        // a million draws of every kind: a churn round of 1,024 pages one draw in nine, 10^8 accesses in 1.6 million operations
        { "mix", GeneratedStreamTests.MixOfAll with { Accesses = 1_000_000, MapPages = 1 << 10, Pages = 64 }, 4 },
    };

    [Theory]
    [MemberData(nameof(Huge))]
    public void A_cpu_reads_a_stream_of_ten_to_the_eight_accesses_holding_one_operation_and_no_more_heap_than_at_its_start(string what, GeneratorSpec spec, int cpus)
    {
        var workload = WorkloadGenerator.Generate(spec, new MachineSpec { Cpus = cpus }, 1, 1);
        var cursor = new OpCursor(workload.Scripts[0].Ops);
        long ops = 0, accesses = 0, mostHeld = 0;
        void Read(long until)
        {
            for (; ops < until && cursor.Current is { } op; ops++, cursor.Advance())
            {
                accesses += op is Op.Access access ? access.Target.Count : 0;
                mostHeld = Math.Max(mostHeld, cursor.Held);
            }
        }
        Read(1_000);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        Read(long.MaxValue);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(cursor);

        Assert.Null(cursor.Current);
        Assert.True(accesses * cpus >= 100_000_000, $"{what}: {accesses} accesses on cpu 0 of {cpus}");
        Assert.Equal(1, mostHeld);                                   // the operation at hand, none kept behind it
        Assert.True(after - before < 1 << 20,
            $"{what}: the live heap grew by {after - before:N0} bytes over {ops:N0} operations; made whole they would take at least {ops * 8:N0} bytes of references alone");
    }

    /// <summary>
    /// A whole run on the reference machine: a probe at the end of CPU 0's stream weighs the live heap of the running
    /// machine against its weight early on. A million accesses made whole as operations would take some 80 MB.
    /// </summary>
    [Fact]
    public void A_reference_run_of_a_million_generated_accesses_keeps_its_heap_flat()
    {
        var spec = GeneratedStreamTests.MixOfAll with { Mix = [(GeneratorKind.Churn, 1), (GeneratorKind.Zipf, 1_000)], Accesses = 1_000_000, MapPages = 4, Pages = 64 };
        var workload = WorkloadGenerator.Generate(spec, new MachineSpec { Cpus = 1 }, 1, 1);
        var probe = new HeapProbe(((Op.Stream)workload.Scripts[0].Ops[0]).Source, weighAt: 1_000);
        var result = ReferenceMachine.Run(workload with { Scripts = [new CpuScript(new(0), [new Op.Stream(1, probe)])] }, 1, captureMemory: false);

        Assert.True(result.Totals.Accesses >= 1_000_000, $"{result.Totals.Accesses} accesses");
        Assert.Equal(2, probe.Weights.Count);
        Assert.True(probe.Weights[1] - probe.Weights[0] < 1 << 20,
            $"the live heap of the run grew from {probe.Weights[0]:N0} to {probe.Weights[1]:N0} bytes over {result.Totals.Accesses:N0} accesses");
    }

    /// <summary>A source that weighs the live heap (after a full collection) at its <paramref name="weighAt"/>th operation and at its end.</summary>
    internal sealed class HeapProbe(IOpSource inner, long weighAt) : IOpSource
    {
        public List<long> Weights { get; } = [];

        public long WeighAt { get; } = weighAt;

        public string Name => inner.Name;

        public System.Collections.Immutable.ImmutableArray<Op> Repertoire => inner.Repertoire;

        public long Size => inner.Size;

        public IOpReader Open() => new Reader(this, inner.Open());

        private sealed class Reader(HeapProbe probe, IOpReader ops) : IOpReader
        {
            private long _read;

            public Op? Next()
            {
                var op = ops.Next();
                if (++_read == probe.WeighAt || op is null)
                    probe.Weights.Add(GC.GetTotalMemory(forceFullCollection: true));
                return op;
            }

            public void Dispose() => ops.Dispose();
        }
    }
}

using Akka.Actor;
using Akka.TestKit;
using Faultsim.Actors;
using Faultsim.Actors.Disk;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Monitoring;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Common;
using Faultsim.Model.Storage;

namespace Faultsim.Tests.Actors;

/// <summary>
/// The disk with a probe for each collaborator: the loader that reads, memory that writes back, the machine that asks
/// for the files written at the end. Service times are waited on the virtual clock, so they are exact.
/// </summary>
public sealed class DiskSpec : DeterministicSpec
{
    private const int Words = 4;
    private static readonly TimeSpan Latency = TimeSpan.FromMicroseconds(100);
    private const ulong Bandwidth = 4096 * 1000;          // 4 KiB in 1 ms
    private const long Service = 1_100_000;                // ns: the latency and one page's transfer
    private readonly TestProbe _loader, _memory, _machine;
    private readonly EventLog _events;

    public DiskSpec()
    {
        (_loader, _memory, _machine) = (CreateTestProbe("loader"), CreateTestProbe("memory"), CreateTestProbe("machine"));
        _events = new EventLog(() => Clock.NowNanos);
    }

    private IActorRef Disk(int depth = 1, double errorRate = 0, FilePage[]? bad = null, ulong seed = 1, TimeSpan? latency = null,
        ulong bandwidth = Bandwidth, bool timed = true) =>
        Spawn(DiskActor.Props(new DiskSettings(depth, new ReadErrors(bad ?? [], errorRate), seed, latency ?? Latency, bandwidth, timed),
            Words, RunContext.Live with { Events = _events }));

    private static FilePage Lib(ulong page) => new(new FileId(0), page);

    private static ReadPage Read(long id, ulong page) => new(new DiskRequestId(id), new DiskBlock.OfFile(Lib(page)));

    private static ulong[] OnDisk(ulong page) => [.. Enumerable.Range(0, Words).Select(w => FileStore.InitialWord(Lib(page), w))];

    private static long IdOf(object reply) => reply switch
    {
        PageRead read => read.Id.Value,
        PageReadFailed failed => failed.Id.Value,
        PageWritten written => written.Id.Value,
        _ => throw new InvalidOperationException($"not a disk reply: {reply}"),
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void Disk_serves_at_most_its_queue_depth_at_once_and_the_rest_in_arrival_order(int depth)
    {
        var disk = Disk(depth);
        var replies = Arrivals(_loader);
        var start = Clock.NowNanos;
        for (var id = 1; id <= 5; id++)
            disk.Tell(Read(id, (ulong)id), _loader.Ref);
        RunUntilQuiet();

        Assert.Equal([1L, 2, 3, 4, 5], replies.Select(r => IdOf(r.Message)));
        // The n-th request waits for the depth served before it: it finishes at (n / depth + 1) service times.
        Assert.Equal(Enumerable.Range(0, 5).Select(n => (n / depth + 1) * Service), replies.Select(r => r.At - start));
    }

    [Theory]
    [InlineData(100, 4096 * 1000, 1_100_000)]      // 100 µs, then 4 KiB at 4 MB/s: 1 ms
    [InlineData(50, 4096 * 100_000, 60_000)]       // 50 µs, then 10 µs
    [InlineData(0, 4096 * 10, 100_000_000)]        // no latency, 100 ms of transfer
    public void A_requests_service_time_is_the_latency_and_a_pages_transfer_at_the_bandwidth_on_the_virtual_clock(
        int latencyMicros, ulong bandwidth, long nanos)
    {
        var disk = Disk(latency: TimeSpan.FromMicroseconds(latencyMicros), bandwidth: bandwidth);
        var reads = Arrivals(_loader);
        var writes = Arrivals(_memory);
        var start = Clock.NowNanos;
        disk.Tell(Read(1, 0), _loader.Ref);
        RunUntilQuiet();
        disk.Tell(new WritePage(new DiskRequestId(2), new DiskBlock.OfSwap(new SwapSlot(3)), []), _memory.Ref);
        RunUntilQuiet();

        Assert.Equal(nanos, Assert.Single(reads).At - start);
        Assert.Equal(2 * nanos, Assert.Single(writes).At - start);  // a write takes a page's service time too
        Assert.Equal(2 * nanos, Clock.NowNanos - start);            // and nothing else waits
    }

    [Fact]
    public void An_untimed_disk_answers_each_request_in_arrival_order_without_moving_the_clock()
    {
        var disk = Disk(depth: 1, timed: false);
        var replies = Arrivals(_loader);
        var start = Clock.NowNanos;
        for (var id = 1; id <= 3; id++)
            disk.Tell(Read(id, 0), _loader.Ref);
        RunUntilQuiet();
        Assert.Equal([(start, 1L), (start, 2L), (start, 3L)], replies.Select(r => (r.At, IdOf(r.Message))));
    }

    [Fact]
    public void A_read_of_a_bad_page_fails_and_the_other_pages_read_their_content()
    {
        var disk = Disk(depth: 3, bad: [Lib(2)]);
        for (var page = 1UL; page <= 3; page++)
            disk.Tell(Read((long)page, page), _loader.Ref);

        Assert.Equal(OnDisk(1), Next<PageRead>(_loader).Content.ToArray());
        Assert.Equal(new DiskRequestId(2), Next<PageReadFailed>(_loader).Id);
        Assert.Equal(OnDisk(3), Next<PageRead>(_loader).Content.ToArray());
        Assert.Equal([false, true, false], _events.Tail.Select(e => ((SimEvent.DiskReadFinished)e.Event).Failed)); // logged as they end
    }

    [Theory]
    [InlineData(0.5, 7)]
    [InlineData(0.5, 8)]
    [InlineData(0.2, 7)]
    public void Reads_fail_at_the_error_rate_as_the_seed_draws_the_same_for_the_same_seed(double rate, ulong seed)
    {
        List<bool> Failures(IActorRef disk)
        {
            for (var id = 1; id <= 40; id++)
                disk.Tell(Read(id, (ulong)(id % 16)), _loader.Ref);
            return [.. Drain(_loader).Select(reply => reply is PageReadFailed)];
        }

        var draws = new SimRandom(seed); // each read served draws once: it fails when the draw falls below the rate
        var expected = Enumerable.Range(0, 40).Select(_ => draws.NextDouble() < rate).ToList();
        var failures = Failures(Disk(seed: seed, errorRate: rate));

        Assert.Equal(expected, failures);
        Assert.Contains(true, failures);
        Assert.Contains(false, failures);
        Assert.Equal(failures, Failures(Disk(seed: seed, errorRate: rate)));
        Assert.NotEqual(failures, Failures(Disk(seed: seed + 100, errorRate: rate)));
    }

    [Fact]
    public void A_swap_read_fails_only_by_the_rate_and_brings_no_content()
    {
        var disk = Disk(bad: [Lib(0)], errorRate: 0);
        disk.Tell(new ReadPage(new DiskRequestId(1), new DiskBlock.OfSwap(new SwapSlot(0))), _loader.Ref);
        Assert.Empty(Next<PageRead>(_loader).Content.ToArray()); // swap space lives with memory: the disk only times the read
        var failing = Disk(errorRate: 1);
        failing.Tell(new ReadPage(new DiskRequestId(2), new DiskBlock.OfSwap(new SwapSlot(0))), _loader.Ref);
        Assert.Equal(new DiskRequestId(2), Next<PageReadFailed>(_loader).Id);
    }

    [Fact]
    public void A_file_page_written_back_is_what_later_reads_get_and_what_the_machine_collects()
    {
        var disk = Disk(depth: 2);
        disk.Tell(new WritePage(new DiskRequestId(1), new DiskBlock.OfFile(Lib(3)), [9, 8, 7, 6]), _memory.Ref);
        disk.Tell(new WritePage(new DiskRequestId(2), new DiskBlock.OfSwap(new SwapSlot(5)), []), _memory.Ref);
        Assert.Equal(new DiskRequestId(1), Next<PageWritten>(_memory).Id);
        Assert.Equal(new DiskRequestId(2), Next<PageWritten>(_memory).Id);
        AssertSilent(_loader);                                            // a write is answered to its writer only

        disk.Tell(Read(3, 3), _loader.Ref);
        disk.Tell(Read(4, 4), _loader.Ref);
        Assert.Equal([9UL, 8, 7, 6], Next<PageRead>(_loader).Content.ToArray());
        Assert.Equal(OnDisk(4), Next<PageRead>(_loader).Content.ToArray()); // a page never written reads as the file has it

        disk.Tell(ReadWrittenFiles.Instance, _machine.Ref);
        var written = Assert.Single(Next<WrittenFiles>(_machine).Pages); // the swap write is not a file's
        Assert.Equal(Lib(3), written.Page);
        Assert.Equal([9UL, 8, 7, 6], written.Words.ToArray());
    }

    [Fact]
    public void Disk_fails_the_run_on_a_message_its_state_does_not_take()
    {
        var disk = Disk();
        var read = new PageRead(new DiskRequestId(1), []);
        disk.Tell(read, _loader.Ref);                     // a reply of the disk's own, sent to it
        Assert.Equal($"protocol error: {disk.Path.Name} in state Serving got an unexpected PageRead: {read}", ProtocolError());
    }
}

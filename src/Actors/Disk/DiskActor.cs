using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Telemetry;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Common;
using Faultsim.Model.Storage;

namespace Faultsim.Actors.Disk;

/// <summary>
/// The disk: it serves reads and writes in arrival order, at most <see cref="DiskSettings.QueueDepth"/>
/// at a time, the rest queued. It holds the files (page contents, pages written back) and fails the
/// reads the settings say to fail. Swap space lives with memory; the disk only serves its requests.
/// </summary>
// One state, Serving: ReadPage | WritePage ──▶ queued, in service once one of QueueDepth slots is free ──Completed
// (after its service time, a message to itself)──▶ PageRead | PageReadFailed | PageWritten to the requester;
// ReadWrittenFiles ──▶ WrittenFiles. The disk waits for nobody: it has no waiting state.
public sealed class DiskActor : SimulationActor, IWithTimers
{
    private readonly DiskSettings _settings;
    private readonly FileStore _files = new();
    private readonly SimRandom _random;
    private readonly Func<double> _draw;
    private readonly Queue<(object Request, IActorRef ReplyTo)> _queue = new();
    private readonly int _wordsPerPage;
    private readonly RunContext _run;
    private int _inService;
    private long _timers;

    public ITimerScheduler Timers { get; set; } = null!;

    public DiskActor(DiskSettings settings, int wordsPerPage, RunContext run) : base(nameof(Serving), coverage: run.Coverage, traffic: run.Traffic)
    {
        _run = run;
        _settings = settings;
        _wordsPerPage = wordsPerPage;
        _random = new SimRandom(settings.Seed);
        _draw = _random.NextDouble;
    }

    public static Props Props(DiskSettings settings, int wordsPerPage, RunContext run) => ActorFactory.Props(() => new DiskActor(settings, wordsPerPage, run));

    protected override bool Receive(object message) => Serving(message);

    private bool Serving(object message)
    {
        switch (message)
        {
            case ReadPage or WritePage:
                Enqueue(message);
                return true;
            case Completed done:
                Complete(done);
                return true;
            case ReadWrittenFiles:
                var content = new ulong[_wordsPerPage];
                Sender.Tell(new WrittenFiles([.. _files.WrittenPages.Select(page =>
                {
                    _files.Read(page, content);
                    return (page, content.ToImmutableArray());
                })], MessagesReceived));
                return true;
            default:
                return false;
        }
    }

    private void Enqueue(object request)
    {
        _queue.Enqueue((request, Sender));
        FaultMetrics.Disk(+1);
        StartNext();
    }

    private void StartNext()
    {
        while (_inService < _settings.QueueDepth && _queue.TryDequeue(out var next))
        {
            _inService++;
            var completed = new Completed(next.Request, next.ReplyTo);
            if (_settings.Timed) // the scheduler's clock decides; the bandwidth applies per request, over all its pages
                Timers.StartSingleTimer(++_timers, completed, _settings.ServiceTimeOf(next.Request is ReadPage read ? 1 + read.Ahead.Length : 1));
            else
                Self.Tell(completed); // served in arrival order, as soon as its turn comes
        }
    }

    private void Complete(Completed done)
    {
        _inService--;
        FaultMetrics.Disk(-1, read: done.Request is ReadPage);
        var reply = Serve(done.Request);
        if (done.Request is ReadPage read && _run.Events is { } events)
        {
            // Each page as it went: a failed request fails them all, else a page read ahead fails alone.
            var pages = reply as PageRead;
            events.Record(Self.Path.Name, done.ReplyTo.Path.Name, new SimEvent.DiskReadFinished(read.Block.ToString(), pages is null || pages.BlockFailed));
            for (var i = 0; i < read.Ahead.Length; i++)
                events.Record(Self.Path.Name, done.ReplyTo.Path.Name, new SimEvent.DiskReadFinished(read.Ahead[i].ToString(), pages is null || pages.Ahead[i].Failed));
        }
        done.ReplyTo.Tell(reply);
        StartNext();
    }

    private object Serve(object request)
    {
        switch (request)
        {
            case ReadPage { Demanded: true } read when _settings.Errors.FailsDemanded(FileOf(read.Block), _draw):
                return new PageReadFailed(read.Id);
            case ReadPage read:
                var blockFailed = !read.Demanded && FileOf(read.Block) is { } first && _settings.Errors.FailsAhead(first);
                return new PageRead(read.Id, blockFailed ? [] : Content(read.Block), [.. read.Ahead.Select(ahead =>
                    FileOf(ahead) is { } page && _settings.Errors.FailsAhead(page) ? new AheadRead(ahead, true, []) : new AheadRead(ahead, false, Content(ahead)))])
                { BlockFailed = blockFailed };
            case WritePage { Block: DiskBlock.OfFile file } write:
                _files.Write(file.Page, write.Content.AsSpan());
                return new PageWritten(write.Id);
            case WritePage write:
                return new PageWritten(write.Id);
            default:
                throw new InvalidOperationException($"not a disk request: {request}");
        }
    }

    /// <summary>A file page's content as the disk holds it; a swap slot's lives with memory.</summary>
    private ImmutableArray<ulong> Content(DiskBlock block)
    {
        if (block is not DiskBlock.OfFile file)
            return [];
        var content = new ulong[_wordsPerPage];
        _files.Read(file.Page, content);
        return [.. content];
    }

    private static FilePage? FileOf(DiskBlock block) => block is DiskBlock.OfFile file ? file.Page : null;

    /// <summary>A request whose service time has passed: a message to itself, never serialized.</summary>
    private sealed record Completed(object Request, IActorRef ReplyTo) : INoSerializationVerificationNeeded;
}

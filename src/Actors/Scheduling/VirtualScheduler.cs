using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;
using Faultsim.Model.Common;

namespace Faultsim.Actors.Scheduling;

/// <summary>
/// Akka's scheduler on a virtual clock (akka.scheduler.implementation). Nothing fires by itself: the
/// deterministic driver fires the earliest due item, moving the clock to it, only when no mailbox has
/// work. Time is kept in nanoseconds, so latencies below Akka's 100 ns tick still add up exactly.
/// </summary>
public sealed class VirtualScheduler : IScheduler, IAdvancedScheduler
{
    private static readonly DateTimeOffset Epoch = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly object _gate = new();
    private readonly PriorityQueue<Item, (long Due, long Seq)> _due = new();
    private readonly List<Item> _batch = [];
    private long _now, _seq;
    private SimRandom _random = new(0);
    private double _jitter;

    public VirtualScheduler(Config config, ILoggingAdapter log)
    {
    }

    /// <summary>Virtual nanoseconds since the scheduler started.</summary>
    public long NowNanos => Volatile.Read(ref _now); // written under the gate, read by any thread

    public DateTimeOffset Now => Epoch.AddTicks(NowNanos / 100);
    public TimeSpan MonotonicClock => TimeSpan.FromTicks(NowNanos / 100);
    public TimeSpan HighResMonotonicClock => MonotonicClock;
    public IAdvancedScheduler Advanced => this;

    /// <summary>Delivers <paramref name="message"/> <paramref name="nanos"/> virtual nanoseconds from now.</summary>
    public void TellAfter(long nanos, ICanTell receiver, object message, IActorRef sender) =>
        Add(nanos, new Item(receiver, message, sender, null, 0, null));

    /// <summary>
    /// From now on every delay varies by up to ±<paramref name="fraction"/> of itself, drawn from <paramref name="random"/>
    /// (0: none). Delays are scheduled by the driver's thread in the driver's order, so the draws are deterministic too.
    /// </summary>
    public void Jitter(SimRandom random, double fraction)
    {
        lock (_gate)
            (_random, _jitter) = (random, fraction);
    }

    /// <summary>
    /// Moves the clock to the earliest due time and runs every item due then, so that the messages they send are
    /// ready together and the driver's strategy orders them. False when nothing is scheduled.
    /// </summary>
    public bool FireNext()
    {
        List<Item> batch;
        lock (_gate)
        {
            if (!_due.TryPeek(out _, out var first))
                return false;
            Volatile.Write(ref _now, Math.Max(_now, first.Due));
            batch = _batch;
            batch.Clear();
            while (_due.TryPeek(out var item, out var key) && key.Due == first.Due)
            {
                _due.Dequeue();
                batch.Add(item);
            }
        }
        foreach (var item in batch)
        {
            if (item.Cancelable?.IsCancellationRequested == true)
                continue;
            item.Fire();
            if (item.IntervalNanos > 0)
                Add(item.IntervalNanos, item);
        }
        return true;
    }

    public void ScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef sender) =>
        Add(Nanos(delay), new Item(receiver, message, sender, null, 0, null));

    public void ScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable) =>
        Add(Nanos(delay), new Item(receiver, message, sender, null, 0, cancelable));

    public void ScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message, IActorRef sender) =>
        Add(Nanos(initialDelay), new Item(receiver, message, sender, null, Nanos(interval), null));

    public void ScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable) =>
        Add(Nanos(initialDelay), new Item(receiver, message, sender, null, Nanos(interval), cancelable));

    public void ScheduleOnce(TimeSpan delay, Action action, ICancelable cancelable) => Add(Nanos(delay), Item.Of(action, 0, cancelable));
    public void ScheduleOnce(TimeSpan delay, Action action) => Add(Nanos(delay), Item.Of(action, 0, null));
    public void ScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, Action action, ICancelable cancelable) => Add(Nanos(initialDelay), Item.Of(action, Nanos(interval), cancelable));
    public void ScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, Action action) => Add(Nanos(initialDelay), Item.Of(action, Nanos(interval), null));
    public void ScheduleOnce(TimeSpan delay, IRunnable action, ICancelable cancelable) => Add(Nanos(delay), Item.Of(action.Run, 0, cancelable));
    public void ScheduleOnce(TimeSpan delay, IRunnable action) => Add(Nanos(delay), Item.Of(action.Run, 0, null));
    public void ScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, IRunnable action, ICancelable cancelable) => Add(Nanos(initialDelay), Item.Of(action.Run, Nanos(interval), cancelable));
    public void ScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, IRunnable action) => Add(Nanos(initialDelay), Item.Of(action.Run, Nanos(interval), null));

    private void Add(long delayNanos, Item item)
    {
        lock (_gate)
        {
            if (_jitter > 0 && delayNanos > 0)
                delayNanos = Math.Max(1, (long)(delayNanos * (1 + _jitter * (2 * _random.NextDouble() - 1))));
            _due.Enqueue(item, (_now + Math.Max(0, delayNanos), ++_seq));
        }
    }

    private static long Nanos(TimeSpan span) => span.Ticks * 100;

    /// <summary>
    /// What is due: a message to tell (the simulation's latencies, timers; no closure allocated for it) or an action.
    /// A struct in the queue, so that scheduling a latency allocates nothing of its own.
    /// </summary>
    private readonly record struct Item(ICanTell? Receiver, object? Message, IActorRef? Sender, Action? Action, long IntervalNanos, ICancelable? Cancelable)
    {
        public static Item Of(Action action, long intervalNanos, ICancelable? cancelable) => new(null, null, null, action, intervalNanos, cancelable);

        public void Fire()
        {
            if (Action is { } action)
                action();
            else
                Receiver!.Tell(Message!, Sender!);
        }
    }
}

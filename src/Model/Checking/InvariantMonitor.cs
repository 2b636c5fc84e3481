using System.Globalization;
using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;

namespace Faultsim.Model.Checking;

/// <summary>
/// The specification monitor: it sees the events of a run as they happen and checks the invariants of
/// DESIGN.md that events can show, and at the end the memory against every CPU's own writes. The first
/// violation is kept; a correct run has none.
/// </summary>
public sealed class InvariantMonitor
{
    private readonly Dictionary<string, long> _readsInFlight = [];                  // blocks being read, only while they are
    private readonly Dictionary<long, (long Seq, PageKey Page)> _asleep = [];      // raised or queued, not yet woken
    private readonly Dictionary<PageKey, long> _lastInstall = [];                  // only installs a fault asleep could ask after
    private int _installsKept = MinInstallsKept;                                   // how many before the older ones are dropped
    private readonly Dictionary<ProcessId, StoredWords> _expected = [];            // last store per word of each process's pages
    private readonly Dictionary<FileId, StoredWords> _shared = [];                 // the same for the file pages of shared mappings

    private const int MinInstallsKept = 1024;

    public Violation? Violation { get; private set; }

    /// <summary>
    /// The last event that showed progress (invariant 8): a fault resolved and counted, an access applied to memory, a
    /// system call made, a fork, a process ending. 0 before the first.
    /// </summary>
    public long LastProgress { get; private set; }

    /// <summary>Takes in event number <paramref name="seq"/>.</summary>
    public void Observe(long seq, SimEvent e)
    {
        if (e is SimEvent.FaultWoken { Counted: true } or SimEvent.StoreApplied or SimEvent.LoadApplied or SimEvent.SyscallMade
            or SimEvent.Forked or SimEvent.ProcessEnded)
            LastProgress = seq;
        switch (e)
        {
            case SimEvent.DiskReadStarted read:
                if (_readsInFlight.TryGetValue(read.Block, out var inFlight) && inFlight > 0)
                    Fail(1, $"a second read of {read.Block} (for {FaultName.Of(read.Fault)}) while one is in flight", seq);
                _readsInFlight[read.Block] = inFlight + 1;
                break;
            case SimEvent.DiskReadFinished done:
                if (_readsInFlight.GetValueOrDefault(done.Block) > 1)
                    _readsInFlight[done.Block]--;
                else
                    _readsInFlight.Remove(done.Block); // a block no read is in flight for is not kept: a run reads millions
                break;
            case SimEvent.FaultRaised raised:
                _asleep[raised.Fault] = (seq, raised.Page);
                break;
            case SimEvent.PteInstalled installed:
                Installed(seq, installed.Page);
                break;
            case SimEvent.FaultWoken woken:
                Woken(seq, woken);
                break;
            case SimEvent.CowDecided { Reused: true } cow when cow.Frame == FrameNumber.Zero:
                Fail(3, $"a COW write to {cow.Page} reused the shared zero page", seq);
                break;
            case SimEvent.CowDecided { Reused: true, RefCount: > 1 } cow:
                Fail(3, $"a COW write to {cow.Page} reused {cow.Frame}, which {cow.RefCount - 1} other mapping(s) still share", seq);
                break;
            case SimEvent.PteOutsideVma outside:
                Fail(4, $"a PTE for {outside.Page} to {outside.Frame} was installed where no VMA maps: a translation came back after its region was unmapped", seq);
                break;
            case SimEvent.StaleAccess stale:
                Fail(4, $"{stale.Cpu} accessed {stale.Page} through a translation to {stale.Frame} after the frame was freed or reused", seq);
                break;
            case SimEvent.StoreApplied { File: { } file } store: // a file page's content is the file's, seen by every mapping of it
                Of(_shared, file.File).Set(file.Index, store.Word, store.Value);
                break;
            case SimEvent.StoreApplied store:
                Of(_expected, store.Page.Asid.Pid).Set(store.Page.Page.Value, store.Word, store.Value);
                break;
            case SimEvent.LoadApplied load:
                Loaded(seq, load);
                break;
            case SimEvent.PagesReleased { Replaced: false } released: // (a COW break's old frame: the content lives on in the copy)
                foreach (var page in released.Pages)
                    _expected.GetValueOrDefault(page.Asid.Pid)?.RemovePage(page.Page.Value);
                break;
            case SimEvent.PagesMoved moved when _expected.TryGetValue(moved.Asid.Pid, out var words):
                words.MovePages(moved.Moves.Select(m => (m.From.Value, m.To.Value)));
                break;
            case SimEvent.Forked forked when _expected.TryGetValue(forked.Parent, out var parent) && forked.Parent != forked.Child:
                _expected[forked.Child] = Of(_expected, forked.Child).WithPagesOf(parent); // the child starts with the parent's memory
                break;
        }
    }

    /// <summary>A run that ended, or stopped making progress: any fault never woken is a waiter left asleep.</summary>
    public void AtEnd(long seq)
    {
        if (_asleep.Count > 0)
        {
            var (fault, (_, page)) = _asleep.OrderBy(kv => kv.Value.Seq).First();
            Fail(2, $"{FaultName.Of(fault)} on {page} was never woken ({_asleep.Count} waiter(s) left asleep)", seq);
        }
    }

    /// <summary>
    /// Invariant 8, for a run that stopped before its workload ended with nothing left to do: no message to deliver, no
    /// timer pending (a deadlock of the protocol, not of the workload, which the machine reports itself).
    /// </summary>
    public void Stopped(long seq) =>
        Fail(8, $"the run stopped with no message to deliver and no timer pending before its workload ended; no progress {Since}", seq);

    /// <summary>
    /// Invariant 8, for a run whose CPUs all came to wait (at barriers, for processes) on a workload that does not deadlock
    /// (the reference machine runs it to its end): a step the engine lost, such as a fork it never made nor skipped.
    /// </summary>
    public void Deadlocked(long seq, string machine) =>
        Fail(8, $"the engine came to a stop with every CPU waiting, though the workload runs to its end on the reference machine ({machine})", seq);

    /// <summary>
    /// Invariant 8, for a run that went on for <paramref name="messages"/> messages, past its bound, without progress (no
    /// fault resolved, no access applied, no system call, no fork, no process ending): it spins — a livelock, not a long run.
    /// </summary>
    /// <param name="basis">How the bound was derived, for the message.</param>
    public void NoProgress(long seq, long messages, string basis) =>
        Fail(8, string.Create(CultureInfo.InvariantCulture,
            $"no progress in the last {messages:N0} messages (the bound: {basis}): no fault was resolved, no access applied and no system call made {Since}"), seq);

    private string Since => LastProgress == 0 ? "since the run began" : string.Create(CultureInfo.InvariantCulture, $"since event {LastProgress}");

    /// <summary>
    /// The end-of-run check of memory: every page of a live process holds, in each word, the last value a store
    /// put there (or the parent's, across a fork).
    /// </summary>
    public void CheckMemory(MemoryImage image, IReadOnlySet<ProcessId> live, int wordsPerPage, long seq)
    {
        foreach (var (pid, stored) in _expected.Where(kv => live.Contains(kv.Key)).OrderBy(kv => kv.Key.Value))
        {
            ulong Actual(ulong page, int word) => image.Word(pid, new PageNumber(page), word);
            if (stored.FirstDifference(wordsPerPage, Actual) is var (page, word, value))
            {
                Fail(5, $"{pid} {new PageNumber(page)} word {word} holds 0x{Actual(page, word):x}, but the last store there wrote 0x{value:x}", seq);
                return;
            }
        }
    }

    /// <summary>Invariant 5 for files no process may write through a shared mapping: none of their pages may have changed.</summary>
    public void CheckFilesUnchanged(MemoryImage image, IReadOnlyCollection<string> files, long seq)
    {
        if (image.Files.FirstOrDefault(f => files.Contains(f.File)) is { } changed)
            Fail(5, $"file {changed.File} page {changed.Index} changed, though no shared writable mapping of it exists: a private write reached the file", seq);
    }

    /// <summary>
    /// Invariant 6, for race-free workloads: the run's figures are the reference model's — every figure of every process,
    /// each process's fate, a process in one run only, the run's own figures and the final memory.
    /// </summary>
    public void CheckCounts(RunResult actual, RunResult reference, long seq, IReadOnlySet<string>? figures = null)
    {
        if (RunComparison.FirstDifference(actual, reference, figures) is { } difference)
            Fail(6, difference.Description, seq);
    }

    /// <summary>
    /// Invariant 7: a load returns the last value stored to its word — of the address space's own memory, or of the file
    /// page a shared mapping shows — in the order memory applied the accesses (each CPU's reach memory before it
    /// acknowledges a shootdown). A page the kernel discarded (munmap, madvise, exit) starts afresh. Two mappings of one
    /// address that diverge (a store through a new PTE while a CPU still reads through the old one) break it.
    /// </summary>
    private void Loaded(long seq, SimEvent.LoadApplied load)
    {
        var (stored, page) = load.File is { } file
            ? (_shared.GetValueOrDefault(file.File), file.Index)
            : (_expected.GetValueOrDefault(load.Page.Asid.Pid), load.Page.Page.Value);
        if (stored is not null && stored.TryGet(page, load.Word, out var last) && last != load.Value)
            Fail(7, $"{load.Cpu} loaded 0x{load.Value:x} from {load.Page} word {load.Word}, but the last store there wrote 0x{last:x}", seq);
    }

    private void Woken(long seq, SimEvent.FaultWoken woken)
    {
        if (!_asleep.Remove(woken.Fault, out var raised))
            return;
        var installs = woken.Kind is not (ResolutionKind.Spurious or ResolutionKind.SigSegv or ResolutionKind.SigBus
            or ResolutionKind.EfaultFixup or ResolutionKind.KernelOops);
        if (woken.Counted && installs && woken.Outcome == "retry" && _lastInstall.GetValueOrDefault(woken.Page, -1) < raised.Seq)
            Fail(2, $"{FaultName.Of(woken.Fault)} was woken as resolved ({woken.Kind}) before any PTE for {woken.Page} was installed", seq);
    }

    /// <summary>
    /// Keeps the install for the check of a wake (invariant 2), which asks whether the page had one since its fault was
    /// raised: an install older than every fault asleep can never answer yes, so such installs are dropped now and then.
    /// </summary>
    private void Installed(long seq, PageKey page)
    {
        if (_asleep.Count == 0)
            return; // any fault raised later is raised after this install
        _lastInstall[page] = seq;
        if (_lastInstall.Count < _installsKept)
            return;
        var oldest = _asleep.Values.Min(a => a.Seq);
        foreach (var (key, installed) in _lastInstall)
        {
            if (installed < oldest)
                _lastInstall.Remove(key);
        }
        _installsKept = Math.Max(MinInstallsKept, 2 * _lastInstall.Count);
    }

    private static StoredWords Of<TKey>(Dictionary<TKey, StoredWords> owners, TKey owner) where TKey : notnull =>
        owners.TryGetValue(owner, out var words) ? words : owners[owner] = new StoredWords();

    private void Fail(int invariant, string description, long seq) =>
        Violation ??= new Violation(invariant, Violation.Names[invariant], description, seq);
}

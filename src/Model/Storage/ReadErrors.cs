using Faultsim.Model.Addressing;
using Faultsim.Model.Workloads;

namespace Faultsim.Model.Storage;

/// <summary>
/// Which disk reads fail (machine.disk.bad-pages, machine.disk.read-error-rate), for both engines. The page a fault
/// demands fails when it is a bad page, or by the error rate — one draw a demanded read, a swap read's too; a page read
/// ahead (with a major fault's read, or by memory's own readahead: a marker's hit, MADV_WILLNEED) fails only when it is
/// bad, and alone, as Linux fails only the folio whose I/O errs.
/// </summary>
public sealed class ReadErrors(IEnumerable<FilePage> badPages, double rate)
{
    private readonly HashSet<FilePage> _bad = [.. badPages];

    /// <summary>No read fails.</summary>
    public static readonly ReadErrors None = new([], 0);

    /// <summary>The workload's failures, its files named by their ids.</summary>
    public static ReadErrors Of(DiskFailures failures, FileTable files) =>
        new(failures.BadPages.Select(b => new FilePage(files.IdOf(b.File), b.Page)), failures.ReadErrorRate);

    public double Rate { get; } = rate;

    /// <summary>Whether the read a fault demands of <paramref name="page"/> (null: a swap slot) fails; <paramref name="draw"/> gives a uniform [0, 1) number.</summary>
    public bool FailsDemanded(FilePage? page, Func<double> draw) =>
        (page is { } file && _bad.Contains(file)) || (Rate > 0 && draw() < Rate);

    /// <summary>Whether a page read ahead fails.</summary>
    public bool FailsAhead(FilePage page) => _bad.Contains(page);
}

using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;

namespace Faultsim.Model.Checking;

/// <summary>
/// The figures a run's events show as they happen: faults by resolution (minor and major as getrusage counts them),
/// disk reads, evictions, shootdowns and IPIs, system calls. They are what an interrupted actor run can report — its
/// actors hold the real counters and are never asked for them — and on a finished run they equal its totals (a test
/// holds them to that), so the partial figures mean what the whole ones do.
/// </summary>
public sealed class EventTally
{
    private readonly Dictionary<long, FaultErrorCode> _raised = [];   // faults raised and not yet resolved: what faulted
    private readonly HashSet<(FaultSource Source, ResolutionKind Kind)> _resolutions = [];

    /// <summary>The figures so far, in the counters a run reports (accesses and TLB figures are not events: they stay 0).</summary>
    public Counters Totals { get; } = new();

    /// <summary>System calls made so far.</summary>
    public long Syscalls { get; private set; }

    /// <summary>Every (fault source, resolution) the run's faults met.</summary>
    public IReadOnlyCollection<(FaultSource Source, ResolutionKind Kind)> Resolutions => _resolutions;

    public void Observe(SimEvent e)
    {
        switch (e)
        {
            case SimEvent.FaultRaised fault:
                _raised[fault.Fault] = fault.Code;
                break;
            case SimEvent.FaultWoken woken:
                if (woken.DiskRead)
                    Totals.DiskReads++; // counted by the fault whose load read the disk, as its CPU counts it
                var raised = _raised.Remove(woken.Fault, out var code); // woken once, counted or not: a retry is a fault of its own
                if (!woken.Counted)
                    break;
                Totals.CountFault(woken.Kind, woken.Major);
                if (raised)
                    _resolutions.Add((new FaultSource(code.User, code.Access), woken.Kind));
                break;
            case SimEvent.ReadAheadStarted:
                Totals.DiskReads++; // memory's own request, counted for the process it reads for
                break;
            case SimEvent.PageEvicted:
                Totals.PagesEvicted++;
                break;
            case SimEvent.ShootdownFinished finished: // counted when its mm takes the last acknowledgement, as the mm counts it
                Totals.CountShootdown(finished.Ipis);
                break;
            case SimEvent.SyscallMade:
                Syscalls++;
                break;
        }
    }
}

/// <summary>Who faulted and how: a user access or the kernel's (a user copy), and the access, e.g. "user write".</summary>
public readonly record struct FaultSource(bool User, AccessKind Access)
{
    public override string ToString() => $"{(User ? "user" : "kernel")} {Access.ToString().ToLowerInvariant()}";
}

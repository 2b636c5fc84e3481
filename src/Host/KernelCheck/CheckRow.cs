namespace Faultsim.Host.KernelCheck;

/// <summary>What one engine (or Linux) counted for a part: minor and major faults, pages copied, and the signal that ended it.</summary>
internal sealed record PartCount(long Minor, long Major, long? Copies, string? Signal)
{
    /// <summary>Whether <paramref name="other"/> counts the same; copies only where this one (Linux's) tells them.</summary>
    public bool Matches(PartCount other) =>
        Minor == other.Minor && Major == other.Major && Signal == other.Signal && (Copies is null || Copies == other.Copies);

    public override string ToString() => Text(copies: true);

    /// <summary>"minor/major", then " cN" (pages copied) when <paramref name="copies"/> and known, then the signal.</summary>
    public string Text(bool copies) =>
        $"{Minor}/{Major}" + (copies && Copies is { } c ? $" c{c}" : "") + (Signal is { } s ? " " + s.ToUpperInvariant() : "");
}

/// <summary>One row of kernel-check: a part of a pattern, Linux's counts (null when not run) and each engine's; the reason where it depends on the host.</summary>
/// <param name="Agree">Whether Linux and both engines agree; null where the pattern depends on the host (<see cref="Reason"/>).</param>
internal sealed record CheckRow(string Pattern, string Part, string What, PartCount? Linux, PartCount Reference, PartCount Actors, bool? Agree, string? Reason);

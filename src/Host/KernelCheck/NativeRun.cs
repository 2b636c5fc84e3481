using System.Collections.Immutable;

namespace Faultsim.Host.KernelCheck;

/// <summary>What the helper measured for one part of a pattern on the host's kernel.</summary>
/// <param name="Copies">Pages whose frame changed (from /proc/self/pagemap); null where the pattern does not tell.</param>
/// <param name="Signal">"sigsegv" or "sigbus" when the part ended with that signal; null when it ran to its end.</param>
internal sealed record NativeCount(long Minor, long Major, long? Copies, string? Signal);

/// <summary>The helper's output: the host's settings, each part's counts, and why a pattern is skipped or depends on the host.</summary>
internal sealed record NativeRun(
    ImmutableDictionary<string, string> Host,
    ImmutableDictionary<(string Pattern, string Part), NativeCount> Counts,
    ImmutableDictionary<string, string> Skipped,
    ImmutableDictionary<string, string> HostDependent);

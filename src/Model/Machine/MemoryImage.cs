using System.Collections.Immutable;
using Faultsim.Model.Addressing;

namespace Faultsim.Model.Machine;

/// <summary>One page of a live process at the end of a run, with its content.</summary>
public sealed record PageImage(ProcessId Pid, PageNumber Page, ImmutableArray<ulong> Words)
{
    public override string ToString() => $"{Pid} {Page}: [{string.Join(' ', Words.Select(w => w.ToString("x")))}]";
}

/// <summary>The content of every page that live processes map (present or swapped out) at the end of a run, in (pid, page) order.</summary>
public sealed record MemoryImage(ImmutableArray<PageImage> Pages)
{
    /// <summary>An FNV-1a hash over pids, pages and words: equal images have equal hashes.</summary>
    public ulong Hash
    {
        get
        {
            var h = 14695981039346656037UL;
            foreach (var page in Pages)
            {
                h = Mix(h, (ulong)page.Pid.Value);
                h = Mix(h, page.Page.Value);
                foreach (var word in page.Words)
                    h = Mix(h, word);
            }
            return h;
        }
    }

    private static ulong Mix(ulong h, ulong value)
    {
        for (var i = 0; i < 8; i++, value >>= 8)
            h = (h ^ (value & 0xff)) * 1099511628211UL;
        return h;
    }

    /// <summary>The first difference from <paramref name="other"/>, or null when equal: for test messages.</summary>
    public string? FirstDifference(MemoryImage other)
    {
        var n = Math.Min(Pages.Length, other.Pages.Length);
        for (var i = 0; i < n; i++)
        {
            if (Pages[i].Pid != other.Pages[i].Pid || Pages[i].Page != other.Pages[i].Page || !Pages[i].Words.SequenceEqual(other.Pages[i].Words))
                return $"{Pages[i]} vs {other.Pages[i]}";
        }
        return Pages.Length == other.Pages.Length ? null : $"{Pages.Length} pages vs {other.Pages.Length}";
    }
}

using System.Globalization;

namespace Faultsim.Model.Workloads;

/// <summary>Parses the numbers of scripts and configs: decimal or 0x-hex, with an optional binary suffix (K, M, G, T; KB, KiB, …).</summary>
public static class Quantity
{
    private static readonly (string Suffix, int Shift)[] Suffixes =
    [
        ("KiB", 10), ("MiB", 20), ("GiB", 30), ("TiB", 40),
        ("KB", 10), ("MB", 20), ("GB", 30), ("TB", 40),
        ("K", 10), ("M", 20), ("G", 30), ("T", 40),
    ];

    public static bool TryParse(string text, out ulong value)
    {
        value = 0;
        var s = text.Trim().Replace("_", "", StringComparison.Ordinal);
        var shift = 0;
        if (!s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var (suffix, bits) in Suffixes)
            {
                if (s.Length > suffix.Length && s.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
                {
                    s = s[..^suffix.Length];
                    shift = bits;
                    break;
                }
            }
        }
        var parsed = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!parsed || (shift > 0 && value > ulong.MaxValue >> shift))
            return false;
        value <<= shift;
        return true;
    }

    public static string Describe => "a number such as 4096, 0x1000, 64K or 8M";
}

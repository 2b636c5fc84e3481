namespace Faultsim.Model.Common;

/// <summary>The 64-bit FNV-1a hash, byte by byte: the fingerprint of memory images and event logs.</summary>
public static class Fnv1a
{
    public const ulong Offset = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;

    public static ulong Mix(ulong h, byte b) => (h ^ b) * Prime;

    public static ulong Mix(ulong h, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
            h = Mix(h, b);
        return h;
    }

    /// <summary>Mixes the 8 bytes of <paramref name="value"/>, least significant first.</summary>
    public static ulong Mix(ulong h, ulong value)
    {
        for (var i = 0; i < 8; i++, value >>= 8)
            h = Mix(h, (byte)value);
        return h;
    }
}

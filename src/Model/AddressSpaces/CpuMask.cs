using System.Numerics;
using Faultsim.Model.Addressing;

namespace Faultsim.Model.AddressSpaces;

/// <summary>The CPUs that have run an address space and may hold its translations (mm_cpumask): the targets of its shootdowns.</summary>
public sealed class CpuMask
{
    private ulong[] _words = new ulong[1];

    public void Add(CpuId cpu)
    {
        var w = cpu.Value >> 6;
        if (w >= _words.Length)
            Array.Resize(ref _words, w + 1);
        _words[w] |= 1UL << (cpu.Value & 63);
    }

    public bool Contains(CpuId cpu) =>
        (cpu.Value >> 6) < _words.Length && (_words[cpu.Value >> 6] & (1UL << (cpu.Value & 63))) != 0;

    public int Count => _words.Sum(BitOperations.PopCount);

    /// <summary>The CPUs in ascending order.</summary>
    public IEnumerable<CpuId> Cpus
    {
        get
        {
            for (var w = 0; w < _words.Length; w++)
            {
                for (var bits = _words[w]; bits != 0; bits &= bits - 1)
                    yield return new CpuId(w * 64 + BitOperations.TrailingZeroCount(bits));
            }
        }
    }

    public override string ToString() => "{" + string.Join(",", Cpus.Select(c => c.Value)) + "}";
}

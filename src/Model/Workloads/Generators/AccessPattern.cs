using Faultsim.Model.Common;

namespace Faultsim.Model.Workloads.Generators;

/// <summary>
/// Which page of a region a CPU's next access goes to, one access at a time, in constant memory: a scan's cursor, a
/// random pattern's draw from the CPU's own random source. Made afresh for each pass over a stream.
/// </summary>
public abstract class AccessPattern
{
    /// <summary>The page, from 0 to the region's pages less one, of the next access.</summary>
    public abstract int NextPage(SimRandom random);

    /// <summary>The pattern <paramref name="kind"/> over <paramref name="pages"/> pages, a scan starting at page <paramref name="start"/>.</summary>
    public static AccessPattern Of(GeneratorKind kind, GeneratorSpec spec, int start) => kind switch
    {
        GeneratorKind.Sequential => new Scan(spec.Pages, 1, start),
        GeneratorKind.Strided => new Scan(spec.Pages, spec.Stride, start),
        GeneratorKind.Uniform => new Random(new ZipfSampler(spec.Pages, 0)),
        GeneratorKind.Zipf => new Random(new ZipfSampler(spec.Pages, spec.Theta)),
        GeneratorKind.Mix => new Mixed([.. spec.Mix.Where(m => m.Weight > 0).Select(m => (Of(m.Kind, spec, start), m.Weight))]),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not an access pattern"),
    };

    /// <summary>
    /// Pages start, start + stride, start + 2·stride, … (modulo the region) until the next would pass the region's end
    /// from the scan's column; then the next column (one page further on), until every page is visited; then again.
    /// Stride 1 is a sequential scan.
    /// </summary>
    private sealed class Scan(int pages, int stride, int start) : AccessPattern
    {
        private int _column, _offset;  // the column's first page, and how far along it the next access is

        public override int NextPage(SimRandom random)
        {
            var page = _column + _offset;
            _offset += stride;
            if (_column + _offset >= pages)
                (_column, _offset) = ((_column + 1) % Math.Min(stride, pages), 0);
            return (page + start) % pages;
        }
    }

    private sealed class Random(ZipfSampler ranks) : AccessPattern
    {
        public override int NextPage(SimRandom random) => ranks.Sample(random) - 1;
    }

    /// <summary>Each access drawn from one of <paramref name="patterns"/>, with probability its weight over the sum; each keeps its own place.</summary>
    private sealed class Mixed((AccessPattern Pattern, double Weight)[] patterns) : AccessPattern
    {
        private readonly double _total = patterns.Sum(p => p.Weight);

        public override int NextPage(SimRandom random)
        {
            var draw = random.NextDouble() * _total;
            foreach (var (pattern, weight) in patterns)
            {
                if (draw < weight)
                    return pattern.NextPage(random);
                draw -= weight;
            }
            return patterns[^1].Pattern.NextPage(random);
        }
    }
}

using Faultsim.Model.Common;

namespace Faultsim.Model.Workloads.Generators;

/// <summary>
/// Draws ranks 1..n with probability proportional to 1/rank^theta, in constant memory and time whatever n: Hörmann and
/// Derflinger's rejection-inversion ("Rejection-inversion to generate variates from monotone discrete distributions",
/// 1996), as Apache Commons RNG's RejectionInversionZipfSampler has it. Theta 0 is uniform.
/// </summary>
public sealed class ZipfSampler
{
    private readonly int _n;
    private readonly double _theta, _hIntegralX1, _hIntegralN, _s;

    public ZipfSampler(int n, double theta)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        ArgumentOutOfRangeException.ThrowIfNegative(theta);
        (_n, _theta) = (n, theta);
        _hIntegralX1 = HIntegral(1.5) - 1;
        _hIntegralN = HIntegral(n + 0.5);
        _s = 2 - HIntegralInverse(HIntegral(2.5) - H(2));
    }

    /// <summary>A rank from 1 (the most likely) to n.</summary>
    public int Sample(SimRandom random)
    {
        if (_theta == 0)
            return random.Next(_n) + 1;
        while (true)
        {
            var u = _hIntegralN + random.NextDouble() * (_hIntegralX1 - _hIntegralN);
            var x = HIntegralInverse(u);
            var k = Math.Clamp((int)(x + 0.5), 1, _n);
            if (k - x <= _s || u >= HIntegral(k + 0.5) - H(k))
                return k;
        }
    }

    private double HIntegral(double x)
    {
        var logX = Math.Log(x);
        return Helper2((1 - _theta) * logX) * logX;
    }

    private double H(double x) => Math.Exp(-_theta * Math.Log(x));

    private double HIntegralInverse(double x)
    {
        var t = Math.Max(x * (1 - _theta), -1);
        return Math.Exp(Helper1(t) * x);
    }

    /// <summary>log(1 + x) / x, accurate near 0.</summary>
    private static double Helper1(double x) => Math.Abs(x) > 1e-8 ? Math.Log(1 + x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));

    /// <summary>(e^x - 1) / x, accurate near 0.</summary>
    private static double Helper2(double x) => Math.Abs(x) > 1e-8 ? (Math.Exp(x) - 1) / x : 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x));
}

using FsCheck;
using FsCheck.Fluent;
using PoIP.Inference.Commitments;

namespace PoIP.Inference.Tests.Commitments;

public sealed class PrimeFieldTests
{
    [Fact]
    public void Inverse_EveryNonZeroSample_MultipliesToOne()
    {
        for (uint a = 1; a < PrimeField.P; a += 97)
        {
            Assert.Equal(1u, PrimeField.Mul(a, PrimeField.Inverse(a)));
        }
    }

    [FsCheck.Xunit.Property(MaxTest = 60)]
    public Property Interpolate_RandomPoints_EvaluatesBackToEveryPoint(int seed, PositiveInt size)
    {
        int n = 1 + (size.Get % 128);
        var random = new Random(seed);
        var xs = Enumerable.Range(0, 4096).OrderBy(_ => random.Next()).Take(n).Select(x => (ushort)x).ToArray();
        var ys = Enumerable.Range(0, n).Select(_ => (uint)random.Next((int)PrimeField.P)).ToArray();
        var coefficients = new ushort[n];
        PrimeField.Interpolate(xs, ys, coefficients, new uint[(2 * n) + 1]);
        bool all = Enumerable.Range(0, n).All(i => PrimeField.Evaluate(coefficients, xs[i]) == ys[i]);
        return all.ToProperty();
    }
}

using FsCheck;
using FsCheck.Fluent;
using PoIP.Inference.Commitments;

namespace PoIP.Inference.Tests.Commitments;

public sealed class TopKSelectorTests
{
    [FsCheck.Xunit.Property(MaxTest = 100)]
    public Property Select_RandomValues_EqualsSortByMagnitudeThenIndex(int seed, PositiveInt width)
    {
        int n = 2 + (width.Get % 300);
        var random = new Random(seed);
        // Few distinct magnitudes so ties are common.
        var values = Enumerable.Range(0, n).Select(_ => (float)(random.Next(-20, 21) / 4.0)).ToArray();
        int k = 1 + random.Next(n);
        var selected = new int[k];
        TopKSelector.Select(values, selected);
        var expected = Enumerable.Range(0, n).OrderByDescending(i => Math.Abs(values[i])).ThenBy(i => i).Take(k).Order();
        return expected.SequenceEqual(selected.Order()).ToProperty();
    }
}

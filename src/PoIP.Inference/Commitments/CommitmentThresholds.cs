namespace PoIP.Inference.Commitments;

/// <summary>
/// When a chunk of the verifier's activations agrees with a commitment. For each of the verifier's
/// own top-k indices i, the committed value e_i (half precision, from the polynomial) is compared
/// with the verifier's value v_i: r_i = |e_i − v_i| / max(|v_i|, <see cref="ValueFloor"/>). An index is
/// a mismatch when e_i is not a finite half, the signs differ, or r_i &gt; <see cref="GrossRelativeError"/>
/// (this is where an index the node did not commit lands: the polynomial gives a random field element).
/// A chunk passes when mismatches ≤ <see cref="MaxMismatchFraction"/>·k, the median r ≤
/// <see cref="MaxMedianRelativeError"/>, and the mean of the smallest k − ⌊MaxMismatchFraction·k⌋ values of
/// r (mismatches counted as +∞) ≤ <see cref="MaxTrimmedMeanRelativeError"/>.
/// The defaults are placeholders pending calibration on real engines (docs/proofs.md): the honest
/// per-element error expected on CPU llama.cpp F16 is ~5e-4 (plus ≤ 4.9e-4 from half rounding),
/// Q8_0 is ~2e-2.
/// </summary>
public sealed record CommitmentThresholds
{
    /// <summary>The defaults (pending calibration).</summary>
    public static CommitmentThresholds Default { get; } = new();

    /// <summary>Largest fraction of the verifier's top-k that may mismatch (TOPLOC allows 38/128). Range [0, 1].</summary>
    public double MaxMismatchFraction { get; init; } = 0.30;

    /// <summary>A relative error above this makes an index a mismatch.</summary>
    public double GrossRelativeError { get; init; } = 0.5;

    /// <summary>Largest median relative error of a chunk.</summary>
    public double MaxMedianRelativeError { get; init; } = 5e-3;

    /// <summary>Largest trimmed-mean relative error of a chunk.</summary>
    public double MaxTrimmedMeanRelativeError { get; init; } = 5e-3;

    /// <summary>Magnitudes below this are treated as this in the relative error's denominator.</summary>
    public double ValueFloor { get; init; } = 1e-3;

    /// <summary>Throws when a threshold is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is negative, not finite, or a fraction above 1.</exception>
    public void EnsureValid()
    {
        foreach (double value in new[] { MaxMismatchFraction, GrossRelativeError, MaxMedianRelativeError, MaxTrimmedMeanRelativeError, ValueFloor })
        {
            if (!double.IsFinite(value) || value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(CommitmentThresholds), value, "Thresholds must be finite and non-negative.");
            }
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxMismatchFraction, 1.0);
    }
}

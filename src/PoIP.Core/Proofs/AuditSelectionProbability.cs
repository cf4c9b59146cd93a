namespace PoIP.Core.Proofs;

/// <summary>
/// An audit probability held exactly as a 64-bit threshold: a receipt is selected when the first 64
/// bits of its selection hash are below <see cref="Threshold"/>, so the probability is exactly
/// Threshold / 2^64 (Threshold = 2^64 selects every receipt).
/// </summary>
public readonly record struct AuditSelectionProbability
{
    private static readonly UInt128 Full = UInt128.One << 64;

    private AuditSelectionProbability(UInt128 threshold) => Threshold = threshold;

    /// <summary>Selected when the hash prefix is below this; in [0, 2^64].</summary>
    public UInt128 Threshold { get; }

    /// <summary>The probability as a double (for display).</summary>
    public double Value => (double)Threshold / (double)Full;

    /// <summary>floor(numerator · 2^64 / denominator), computed exactly.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The denominator is zero or the ratio exceeds 1.</exception>
    public static AuditSelectionProbability FromRatio(ulong numerator, ulong denominator)
    {
        ArgumentOutOfRangeException.ThrowIfZero(denominator);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(numerator, denominator);
        return new AuditSelectionProbability(((UInt128)numerator << 64) / denominator);
    }

    /// <summary>floor(p · 2^64) for a double p in [0, 1] (exact: scaling a double by 2^64 loses nothing).</summary>
    /// <exception cref="ArgumentOutOfRangeException">p is not in [0, 1].</exception>
    public static AuditSelectionProbability FromDouble(double p)
    {
        if (!double.IsFinite(p) || p is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "An audit probability is in [0, 1].");
        }

        return new AuditSelectionProbability((UInt128)Math.Floor(Math.ScaleB(p, 64)));
    }

    /// <summary>True when a hash prefix selects the receipt.</summary>
    public bool Selects(ulong hashPrefix) => hashPrefix < Threshold;

    /// <inheritdoc />
    public override string ToString() => Value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture);
}

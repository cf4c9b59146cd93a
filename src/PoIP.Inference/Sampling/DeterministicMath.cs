namespace PoIP.Inference.Sampling;

/// <summary>
/// Floating-point helpers that give the same bits on every machine: only IEEE-754 additions,
/// multiplications and exact power-of-two scaling, evaluated in a fixed order (no libm, no SIMD
/// reductions whose order depends on the vector width).
/// </summary>
internal static class DeterministicMath
{
    private const double Ln2Hi = 6.93147180369123816490e-01;
    private const double Ln2Lo = 1.90821492927058770002e-10;
    private const double InvLn2 = 1.44269504088896338700e+00;

    /// <summary>e^x for x ≤ 0 (the only range softmax needs after subtracting the maximum); 0 below -745.</summary>
    public static double ExpNonPositive(double x)
    {
        if (x < -745.0 || double.IsNaN(x))
        {
            return 0.0;
        }

        if (x > 0.0)
        {
            x = 0.0;
        }

        // x = k·ln2 + r, |r| ≤ ln2/2; e^x = 2^k · e^r.
        double kd = Math.Round(x * InvLn2, MidpointRounding.ToEven);
        int k = (int)kd;
        double r = (x - (kd * Ln2Hi)) - (kd * Ln2Lo);

        // Taylor series of e^r to degree 13 (error < 1e-17 on |r| ≤ 0.35), Horner form.
        double p = 1.0 / 6227020800.0;
        p = (p * r) + (1.0 / 479001600.0);
        p = (p * r) + (1.0 / 39916800.0);
        p = (p * r) + (1.0 / 3628800.0);
        p = (p * r) + (1.0 / 362880.0);
        p = (p * r) + (1.0 / 40320.0);
        p = (p * r) + (1.0 / 5040.0);
        p = (p * r) + (1.0 / 720.0);
        p = (p * r) + (1.0 / 120.0);
        p = (p * r) + (1.0 / 24.0);
        p = (p * r) + (1.0 / 6.0);
        p = (p * r) + 0.5;
        p = (p * r) + 1.0;
        p = (p * r) + 1.0;
        return Math.ScaleB(p, k);
    }

    /// <summary>
    /// Maps a float to a key whose unsigned order is the descending order of the float (NaN sorts last, like -∞).
    /// </summary>
    public static uint DescendingKey(float value)
    {
        if (float.IsNaN(value))
        {
            value = float.NegativeInfinity;
        }

        uint bits = BitConverter.SingleToUInt32Bits(value);

        // Ascending-order key: flip all bits of negatives, the sign bit of positives.
        uint ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
        return ~ascending;
    }
}

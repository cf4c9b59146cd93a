namespace PoIP.Inference.Commitments;

/// <summary>IEEE 754 half-precision bit patterns for committed values: saturating, NaN made canonical.</summary>
internal static class HalfBits
{
    /// <summary>Canonical quiet NaN.</summary>
    public const ushort NaN = 0x7E00;

    /// <summary>Largest finite half, 65504.</summary>
    public const float MaxFinite = 65504f;

    /// <summary>Rounds to the nearest half; values beyond ±65504 saturate, NaN becomes 0x7E00. Always below 0xFC00.</summary>
    public static ushort FromSingle(float value)
    {
        if (float.IsNaN(value))
        {
            return NaN;
        }

        float clamped = Math.Clamp(value, -MaxFinite, MaxFinite);
        return BitConverter.HalfToUInt16Bits((Half)clamped);
    }

    /// <summary>True when the pattern is a finite half (exponent not all ones).</summary>
    public static bool IsFinite(uint bits) => bits <= 0xFFFF && (bits & 0x7C00) != 0x7C00;

    /// <summary>The value of a 16-bit pattern.</summary>
    public static float ToSingle(uint bits) => (float)BitConverter.UInt16BitsToHalf((ushort)bits);
}

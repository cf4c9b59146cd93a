namespace PoIP.Inference.Commitments;

/// <summary>
/// Arithmetic in GF(65521), the largest prime below 2^16: every element fits in two bytes, every
/// finite IEEE half-precision bit pattern (at most 0xFBFF) is an element, and so is every hidden-state
/// index of a model with at most 65,520 dimensions. Products fit in 32 bits.
/// </summary>
internal static class PrimeField
{
    /// <summary>The modulus.</summary>
    public const uint P = 65521;

    public static uint Add(uint a, uint b)
    {
        uint s = a + b;
        return s >= P ? s - P : s;
    }

    public static uint Sub(uint a, uint b) => a >= b ? a - b : a + P - b;

    // Both operands are below P < 2^16, so the product fits in 32 bits and the JIT turns the
    // constant 32-bit modulus into a multiply and shift.
    public static uint Mul(uint a, uint b) => a * b % P;

    /// <summary>Multiplicative inverse by Fermat's little theorem (a^(p-2)); <paramref name="a"/> must be non-zero.</summary>
    public static uint Inverse(uint a)
    {
        uint result = 1, b = a % P;
        uint e = P - 2;
        while (e > 0)
        {
            if ((e & 1) != 0)
            {
                result = Mul(result, b);
            }

            b = Mul(b, b);
            e >>= 1;
        }

        return result;
    }

    /// <summary>Evaluates the polynomial with coefficients <paramref name="coefficients"/> (ascending degree) at <paramref name="x"/> (Horner).</summary>
    public static uint Evaluate(ReadOnlySpan<ushort> coefficients, uint x)
    {
        // acc, x < P: acc·x + c < 65520² + 65535 < 2^32.
        uint acc = 0;
        for (int i = coefficients.Length - 1; i >= 0; i--)
        {
            acc = ((acc * x) + coefficients[i]) % P;
        }

        return acc;
    }

    /// <summary>
    /// Lagrange interpolation: writes into <paramref name="coefficients"/> (ascending degree, length n)
    /// the unique polynomial of degree &lt; n through the points (xs[i], ys[i]). The xs must be distinct
    /// field elements. O(n²) multiplications and n inversions; <paramref name="scratch"/> needs 2n + 1 entries.
    /// </summary>
    public static void Interpolate(ReadOnlySpan<ushort> xs, ReadOnlySpan<uint> ys, Span<ushort> coefficients, Span<uint> scratch)
    {
        int n = xs.Length;
        Span<uint> master = scratch[..(n + 1)];      // M(x) = Π (x - x_j), ascending degree, length n + 1
        Span<uint> quotient = scratch.Slice(n + 1, n); // M(x) / (x - x_j)
        Span<ulong> sums = n <= 1024 ? stackalloc ulong[n] : new ulong[n];
        sums.Clear();
        master.Clear();
        master[0] = 1;
        for (int j = 0; j < n; j++)
        {
            uint negX = Sub(0, xs[j]);
            // multiply by (x - x_j): shift up and add -x_j * current
            for (int d = j + 1; d >= 1; d--)
            {
                master[d] = Add(master[d - 1], Mul(master[d], negX));
            }

            master[0] = Mul(master[0], negX);
        }

        for (int j = 0; j < n; j++)
        {
            uint a = xs[j];
            // synthetic division of M by (x - a): q[n-1] = m[n]; q[i-1] = m[i] + a q[i]
            quotient[n - 1] = master[n];
            for (int i = n - 1; i >= 1; i--)
            {
                quotient[i - 1] = Add(master[i], Mul(a, quotient[i]));
            }

            // denominator q(a) = Π_{m≠j} (a - x_m)
            uint denominator = 0;
            for (int i = n - 1; i >= 0; i--)
            {
                denominator = ((denominator * a) + quotient[i]) % P;
            }

            uint scale = Mul(ys[j] % P, Inverse(denominator));
            for (int i = 0; i < n; i++)
            {
                sums[i] += scale * quotient[i]; // < 2^32 each; n ≤ 2^16 terms fit in 64 bits
            }
        }

        for (int i = 0; i < n; i++)
        {
            coefficients[i] = (ushort)(sums[i] % P);
        }
    }
}

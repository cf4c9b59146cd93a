namespace PoIP.Inference.Sampling;

/// <summary>
/// The counter-based PRNG of the Inference Engine Standard: one uniform double in [0, 1) per
/// (seed, position), computed without state, so anyone can recompute choice <c>i</c> without
/// replaying choices <c>0..i-1</c>.
/// </summary>
/// <remarks>
/// Definition (all arithmetic modulo 2^64): <c>x = Mix(seed ^ Mix(position + 0x9E3779B97F4A7C15))</c>
/// where <c>Mix</c> is the SplitMix64 finaliser (<c>z ^= z &gt;&gt; 30; z *= 0xBF58476D1CE4E5B9;
/// z ^= z &gt;&gt; 27; z *= 0x94D049BB133111EB; z ^= z &gt;&gt; 31</c>); the uniform is
/// <c>(x &gt;&gt; 11) · 2^-53</c>.
/// </remarks>
public static class SamplerRandom
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>The 64 random bits for (seed, position).</summary>
    public static ulong Bits(ulong seed, int position) => Mix(seed ^ Mix(unchecked((ulong)(uint)position + Golden)));

    /// <summary>The uniform double in [0, 1) for (seed, position).</summary>
    public static double Uniform(ulong seed, int position) => (Bits(seed, position) >> 11) * (1.0 / (1UL << 53));

    private static ulong Mix(ulong z)
    {
        unchecked
        {
            z ^= z >> 30;
            z *= 0xBF58476D1CE4E5B9UL;
            z ^= z >> 27;
            z *= 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return z;
        }
    }
}

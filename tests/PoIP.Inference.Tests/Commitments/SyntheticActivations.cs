namespace PoIP.Inference.Tests.Commitments;

/// <summary>Seeded final-norm-like hidden states (RMS ≈ 1, a few large dimensions) and noisy copies of them.</summary>
internal static class SyntheticActivations
{
    public static float[][] Generate(int seed, int positions, int hiddenSize)
    {
        var random = new Random(seed);
        var scale = Enumerable.Range(0, hiddenSize).Select(i => i % 17 == 3 ? 6.0 : 1.0).ToArray();
        var states = new float[positions][];
        for (int p = 0; p < positions; p++)
        {
            states[p] = Enumerable.Range(0, hiddenSize).Select(i => (float)(Gaussian(random) * scale[i])).ToArray();
        }

        return states;
    }

    /// <summary>Each value multiplied by (1 + relative·N(0,1)), seeded.</summary>
    public static float[][] Perturb(float[][] states, double relative, int seed)
    {
        var random = new Random(seed);
        return states.Select(s => s.Select(v => (float)(v * (1 + (relative * Gaussian(random))))).ToArray()).ToArray();
    }

    public static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}

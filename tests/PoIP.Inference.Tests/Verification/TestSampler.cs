using PoIP.Core.Protocol;
using PoIP.Inference.Verification;

namespace PoIP.Inference.Tests.Verification;

/// <summary>
/// A stand-in for PoIP's TokenSampler (same contract: repetition penalty, temperature, top-k, top-p,
/// min-p, then one uniform from a (seed, position)-keyed SplitMix64), used by the fake engines and
/// the verifier in these tests until the real sampler merges.
/// </summary>
internal sealed class TestSampler : ISequenceSampler
{
    public int Sample(ReadOnlySpan<float> logits, SamplingParameters parameters, ulong seed, int position, ReadOnlySpan<int> history)
    {
        double[] adjusted = new double[logits.Length];
        for (int i = 0; i < logits.Length; i++)
        {
            adjusted[i] = logits[i];
        }

        if (parameters.RepetitionPenalty > 1f)
        {
            var recent = new HashSet<int>();
            for (int i = Math.Max(0, history.Length - parameters.RepetitionWindow); i < history.Length; i++)
            {
                recent.Add(history[i]);
            }

            foreach (int t in recent)
            {
                if ((uint)t < (uint)adjusted.Length)
                {
                    adjusted[t] = adjusted[t] > 0 ? adjusted[t] / parameters.RepetitionPenalty : adjusted[t] * parameters.RepetitionPenalty;
                }
            }
        }

        int[] order = Enumerable.Range(0, adjusted.Length).OrderByDescending(i => adjusted[i]).ThenBy(i => i).ToArray();
        if (parameters.IsGreedy)
        {
            return order[0];
        }

        int keep = parameters.TopK > 0 ? Math.Min(parameters.TopK, order.Length) : order.Length;
        double max = adjusted[order[0]];
        double[] p = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++)
        {
            p[i] = Math.Exp((adjusted[order[i]] - max) / parameters.Temperature);
            sum += p[i];
        }

        int cut = keep;
        double cumulative = 0;
        for (int i = 0; i < keep; i++)
        {
            p[i] /= sum;
            cumulative += p[i];
            if (p[i] < parameters.MinP * p[0])
            {
                cut = Math.Min(cut, Math.Max(1, i));
            }

            if (cumulative >= parameters.TopP)
            {
                cut = Math.Min(cut, i + 1);
            }
        }

        double total = 0;
        for (int i = 0; i < cut; i++)
        {
            total += p[i];
        }

        double u = Uniform(seed, position) * total;
        for (int i = 0; i < cut; i++)
        {
            u -= p[i];
            if (u < 0)
            {
                return order[i];
            }
        }

        return order[cut - 1];
    }

    private static double Uniform(ulong seed, int position)
    {
        ulong z = seed + ((ulong)(uint)position * 0x9E3779B97F4A7C15UL) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }
}

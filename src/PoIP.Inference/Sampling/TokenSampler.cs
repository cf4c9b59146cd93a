using PoIP.Core.Protocol;

namespace PoIP.Inference.Sampling;

// PLACEHOLDER: the engine engineer's TokenSampler (full Inference Engine Standard sampler:
// temperature, top-k, top-p, min-p, repetition penalty, (seed, position)-keyed PRNG) replaces
// this file at merge. This stand-in exists only so the managed engine builds on its own branch;
// it implements greedy argmax (lowest index wins ties) and ignores every other parameter.

/// <summary>
/// PoIP's managed sampler (Inference Engine Standard). Deterministic: same logits, parameters,
/// seed, position and history give the same token on every machine. Not thread-safe; one per sequence.
/// </summary>
public sealed class TokenSampler
{
    private readonly int _vocabularySize;

    /// <summary>Creates a sampler for a vocabulary of <paramref name="vocabularySize"/> tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The size is not positive.</exception>
    public TokenSampler(int vocabularySize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        _vocabularySize = vocabularySize;
    }

    /// <summary>
    /// Picks the token for output position <paramref name="position"/> from <paramref name="logits"/>;
    /// <paramref name="history"/> = prompt + output so far (for the repetition penalty).
    /// Greedy (temperature 0) = argmax with lowest-index tie-break.
    /// </summary>
    /// <exception cref="ArgumentException">The logits do not cover the vocabulary.</exception>
    public int Sample(ReadOnlySpan<float> logits, SamplingParameters parameters, ulong seed, int position, ReadOnlySpan<int> history)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (logits.Length != _vocabularySize)
        {
            throw new ArgumentException($"Expected {_vocabularySize} logits, got {logits.Length}.", nameof(logits));
        }

        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }
}

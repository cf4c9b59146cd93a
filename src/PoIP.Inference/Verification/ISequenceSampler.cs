using PoIP.Core.Protocol;

namespace PoIP.Inference.Verification;

/// <summary>
/// The sampler a verifier replays: PoIP's managed sampler of the Inference Engine Standard
/// (<c>PoIP.Inference.Sampling.TokenSampler</c>, whose <c>Sample</c> has exactly this signature).
/// Deterministic: the same logits, parameters, seed, output position and history give the same token
/// on every machine, and choice i is computed without replaying choices 0..i−1. One instance per
/// sequence; it may be called more than once for the same position.
/// </summary>
public interface ISequenceSampler
{
    /// <summary>Picks the token for output position <paramref name="position"/>; <paramref name="history"/> is prompt + output so far.</summary>
    int Sample(ReadOnlySpan<float> logits, SamplingParameters parameters, ulong seed, int position, ReadOnlySpan<int> history);

    /// <summary>
    /// Whether this position's seeded draw point lies within <paramref name="tolerance"/> (a fraction of
    /// the kept probability mass) of <paramref name="claimed"/>'s interval; false when the sampler cannot
    /// tell (the default) or decodes greedily.
    /// </summary>
    bool IsNearDraw(ReadOnlySpan<float> logits, SamplingParameters parameters, ulong seed, int position, ReadOnlySpan<int> history, int claimed, double tolerance) => false;
}

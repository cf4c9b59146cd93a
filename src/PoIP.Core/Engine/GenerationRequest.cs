using PoIP.Core.Protocol;

namespace PoIP.Core.Engine;

/// <summary>One generation: prompt tokens, sampling, seed and a token limit.</summary>
/// <param name="PromptTokens">The tokenized prompt (BOS included when the model wants one).</param>
/// <param name="Sampling">Sampling parameters (validated by the engine).</param>
/// <param name="Seed">Seed of the (seed, position)-keyed sampler PRNG.</param>
/// <param name="MaxTokens">Most tokens to generate.</param>
public sealed record GenerationRequest(IReadOnlyList<int> PromptTokens, SamplingParameters Sampling, ulong Seed, int MaxTokens);

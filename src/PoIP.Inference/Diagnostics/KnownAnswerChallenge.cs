using PoIP.Core.Protocol;

namespace PoIP.Inference.Diagnostics;

/// <summary>
/// One known-answer case as a request anyone can send to a node over the network (an ordinary prompt,
/// sampling and seed on stories260K) with the token ids an honest engine must answer.
/// </summary>
/// <param name="Name">Case name.</param>
/// <param name="Prompt">The prompt text.</param>
/// <param name="Sampling">The sampling parameters (stop strings included).</param>
/// <param name="Seed">The sampler seed.</param>
/// <param name="MaxTokens">Most tokens to generate.</param>
/// <param name="ExpectedTokens">The token ids every honest engine generates, exactly.</param>
public sealed record KnownAnswerChallenge(string Name, string Prompt, SamplingParameters Sampling, ulong Seed, int MaxTokens, IReadOnlyList<int> ExpectedTokens);

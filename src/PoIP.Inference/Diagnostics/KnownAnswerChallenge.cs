using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Protocol;

namespace PoIP.Inference.Diagnostics;

/// <summary>
/// One known-answer case as a request anyone can send to a node over the network (an ordinary prompt,
/// sampling and seed) with the token ids an honest engine must answer: the embedded stories260K cases
/// (<see cref="KnownAnswerTest.Challenges"/>, the same on every honest engine) or cases a challenger derived
/// for any model by running its own engine (<see cref="KnownAnswerTest.DeriveChallengesAsync"/>, binding
/// for nodes that claim the same engine identity).
/// </summary>
/// <param name="Name">Case name.</param>
/// <param name="Prompt">The prompt text.</param>
/// <param name="Sampling">The sampling parameters (stop strings included).</param>
/// <param name="Seed">The sampler seed.</param>
/// <param name="MaxTokens">Most tokens to generate.</param>
/// <param name="ExpectedTokens">The token ids every honest engine generates, exactly.</param>
public sealed record KnownAnswerChallenge(string Name, string Prompt, SamplingParameters Sampling, ulong Seed, int MaxTokens, IReadOnlyList<int> ExpectedTokens)
{
    /// <summary>The model the challenge is for (null: stories260K, <see cref="KnownAnswerTest.ModelSha256"/>).</summary>
    public ModelId? Model { get; init; }

    /// <summary>
    /// The engine identity that produced <see cref="ExpectedTokens"/> when the challenge was derived by running an engine
    /// (only a node claiming the same identity, micro-batch aside, is bound to them); null when every honest engine is.
    /// </summary>
    public EngineIdentity? Engine { get; init; }
}

using PoIP.Core.Hashing;
using PoIP.Core.Money;
using PoIP.Core.Protocol;

namespace PoIP.Hosting.Client;

/// <summary>One question to the network.</summary>
/// <param name="Model">The model to run.</param>
/// <param name="Sampling">Sampling parameters.</param>
/// <param name="Seed">Sampler seed.</param>
/// <param name="MaxTokens">Most tokens to generate.</param>
/// <param name="PriceCap">The most the client pays (escrowed).</param>
public sealed record AskOptions(ModelId Model, SamplingParameters Sampling, ulong Seed, int MaxTokens, TokenAmount PriceCap);

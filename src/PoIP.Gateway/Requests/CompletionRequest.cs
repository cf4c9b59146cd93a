using PoIP.Core.Protocol;

namespace PoIP.Gateway.Requests;

/// <summary>A validated completion request, its prompt already rendered (what will be signed).</summary>
internal sealed record CompletionRequest(
    CompletionKind Kind,
    GatewayModel Model,
    string Prompt,
    string PromptFormat,
    int MaxTokens,
    SamplingParameters Sampling,
    ulong Seed,
    bool Stream,
    bool IncludeUsage);

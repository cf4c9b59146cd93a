namespace PoIP.Gateway.Responses;

/// <summary>Token counts of one answer (prompt tokens as the node's receipt reports them).</summary>
internal readonly record struct Usage(int PromptTokens, int CompletionTokens);

using PoIP.Core.Protocol;

namespace PoIP.Core.Proofs;

/// <summary>Everything a verifier needs to judge one receipt.</summary>
/// <param name="Request">The client's signed request.</param>
/// <param name="Receipt">The node's signed receipt.</param>
/// <param name="Prompt">The prompt bytes (UTF-8) the client sent.</param>
/// <param name="OutputTokens">The output token ids the node returned.</param>
public sealed record VerificationCase(SignedMessage<InferenceRequest> Request, SignedMessage<InferenceReceipt> Receipt, ReadOnlyMemory<byte> Prompt, IReadOnlyList<int> OutputTokens);

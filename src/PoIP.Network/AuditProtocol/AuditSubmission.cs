namespace PoIP.Network.AuditProtocol;

/// <summary>A finished transaction a client submits to a validator on <c>/poip/audit/1.0.0</c>.</summary>
/// <param name="Version">The submission's wire version (<see cref="AuditWire.Version"/> is the one this code speaks).</param>
/// <param name="RequestEnvelope">The client's signed request envelope.</param>
/// <param name="Prompt">The prompt bytes the request commits to.</param>
/// <param name="ReceiptEnvelope">The node's signed receipt envelope.</param>
/// <param name="OutputTokens">The output token ids the node streamed.</param>
public sealed record AuditSubmission(uint Version, ReadOnlyMemory<byte> RequestEnvelope, ReadOnlyMemory<byte> Prompt, ReadOnlyMemory<byte> ReceiptEnvelope, IReadOnlyList<int> OutputTokens);

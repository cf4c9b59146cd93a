namespace PoIP.Network.AuditProtocol;

/// <summary>A validator's reply on <c>/poip/audit/1.0.0</c>.</summary>
/// <param name="Selected">Whether the validator's verifiable draw selected the receipt for audit.</param>
/// <param name="SelectionSignature">The draw's signature (empty when the submission was not accepted).</param>
/// <param name="VerdictEnvelope">The signed verdict envelope (empty when not selected or not judged).</param>
/// <param name="Detail">Human-readable detail (at most <see cref="AuditWire.MaxDetailLength"/> characters).</param>
public sealed record AuditReply(bool Selected, ReadOnlyMemory<byte> SelectionSignature, ReadOnlyMemory<byte> VerdictEnvelope, string Detail);

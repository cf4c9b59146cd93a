using PoIP.Core.Hashing;
using PoIP.Core.Identity;

namespace PoIP.Core.Proofs;

/// <summary>
/// A validator's audit draw for one receipt: its deterministic Ed25519 signature over the
/// domain-separated receipt id, and whether that signature selects the receipt. Anyone holding the
/// validator's public key re-checks it with <see cref="AuditSelection.Verify(AuditSelectionTicket)"/>.
/// </summary>
/// <param name="ReceiptId">The receipt drawn for.</param>
/// <param name="Validator">The validator's public key.</param>
/// <param name="Signature">The 64-byte signature.</param>
/// <param name="Probability">The probability it was drawn under.</param>
/// <param name="Selected">Whether the receipt is to be audited.</param>
public sealed record AuditSelectionTicket(ReceiptId ReceiptId, Ed25519PublicKey Validator, ReadOnlyMemory<byte> Signature, AuditSelectionProbability Probability, bool Selected);

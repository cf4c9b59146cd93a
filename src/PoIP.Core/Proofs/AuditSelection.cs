using System.Buffers.Binary;
using System.Security.Cryptography;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;

namespace PoIP.Core.Proofs;

/// <summary>
/// The audit rule: a verifiable random selection that the node cannot predict before it signs its
/// receipt and the validator cannot bend afterwards. The validator signs
/// <c>"poip/audit-selection/v1\0" ‖ receipt id</c> with Ed25519 (RFC 8032 signatures are
/// deterministic: one key and one message give exactly one valid signature, so the validator cannot
/// re-roll), hashes the signature with SHA-256 and selects the receipt when the first 64 bits,
/// big-endian, are below p·2^64 (<see cref="AuditSelectionProbability"/>, exact integers). The node
/// cannot compute the draw without the validator's private key; anyone can check it from the public
/// key, the receipt id and the signature. What the rule does not stop: a validator that withholds
/// its draw (governance must require a draw for every receipt it is assigned) or a validator key
/// chosen after the receipt is known (validator sets must be fixed before receipts are signed).
/// </summary>
public static class AuditSelection
{
    /// <summary>The signing domain.</summary>
    public const string Domain = "poip/audit-selection/v1";

    private static readonly byte[] DomainBytes = System.Text.Encoding.UTF8.GetBytes(Domain + "\0");

    /// <summary>The exact bytes a validator signs for <paramref name="receiptId"/>.</summary>
    public static byte[] SigningMessage(ReceiptId receiptId)
    {
        byte[] message = new byte[DomainBytes.Length + Sha256Digest.Length];
        DomainBytes.CopyTo(message, 0);
        receiptId.Digest.CopyTo(message.AsSpan(DomainBytes.Length));
        return message;
    }

    /// <summary>The first 64 bits (big-endian) of SHA-256 of the signature.</summary>
    public static ulong SelectionPrefix(ReadOnlySpan<byte> signature)
    {
        Span<byte> hash = stackalloc byte[Sha256Digest.Length];
        SHA256.HashData(signature, hash);
        return BinaryPrimitives.ReadUInt64BigEndian(hash);
    }

    /// <summary>Draws for <paramref name="receiptId"/> with the validator's key.</summary>
    public static AuditSelectionTicket Draw(Ed25519KeyPair validator, ReceiptId receiptId, AuditSelectionProbability probability)
    {
        ArgumentNullException.ThrowIfNull(validator);
        byte[] signature = validator.Sign(SigningMessage(receiptId));
        return new AuditSelectionTicket(receiptId, validator.PublicKey, signature, probability, probability.Selects(SelectionPrefix(signature)));
    }

    /// <summary>
    /// Checks a draw: the signature must verify under <paramref name="validator"/> for
    /// <paramref name="receiptId"/>; <paramref name="selected"/> then says whether it selects the receipt.
    /// </summary>
    /// <returns>False when the signature is not the validator's signature over this receipt (selected is then false).</returns>
    public static bool Verify(Ed25519PublicKey validator, ReceiptId receiptId, ReadOnlySpan<byte> signature, AuditSelectionProbability probability, out bool selected)
    {
        selected = false;
        if (signature.Length != Ed25519PublicKey.SignatureLength || !validator.Verify(SigningMessage(receiptId), signature))
        {
            return false;
        }

        selected = probability.Selects(SelectionPrefix(signature));
        return true;
    }

    /// <summary>Checks a ticket (see <see cref="Verify(Ed25519PublicKey, ReceiptId, ReadOnlySpan{byte}, AuditSelectionProbability, out bool)"/>): true only when the signature verifies and the claimed selection is the one it implies.</summary>
    public static bool Verify(AuditSelectionTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        return Verify(ticket.Validator, ticket.ReceiptId, ticket.Signature.Span, ticket.Probability, out bool selected) && selected == ticket.Selected;
    }
}

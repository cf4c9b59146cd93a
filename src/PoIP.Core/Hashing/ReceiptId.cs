namespace PoIP.Core.Hashing;

/// <summary>Identity of a receipt: the SHA-256 of the node's signed receipt envelope bytes.</summary>
public readonly record struct ReceiptId(Sha256Digest Digest)
{
    /// <summary>Derives the id from the signed envelope bytes.</summary>
    public static ReceiptId FromEnvelope(ReadOnlySpan<byte> signedEnvelope) => new(Sha256Digest.Compute(signedEnvelope));

    /// <summary>Lower-case hex of the digest.</summary>
    public override string ToString() => Digest.ToString();
}

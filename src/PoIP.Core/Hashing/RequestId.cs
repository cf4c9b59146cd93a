namespace PoIP.Core.Hashing;

/// <summary>Identity of a request: the SHA-256 of the client's signed request envelope bytes.</summary>
public readonly record struct RequestId(Sha256Digest Digest)
{
    /// <summary>Derives the id from the signed envelope bytes.</summary>
    public static RequestId FromEnvelope(ReadOnlySpan<byte> signedEnvelope) => new(Sha256Digest.Compute(signedEnvelope));

    /// <summary>Lower-case hex of the digest.</summary>
    public override string ToString() => Digest.ToString();
}

namespace PoIP.Core.Economics;

/// <summary>
/// Idempotency key of an economic operation: a replayed operation with the same id is rejected,
/// never applied twice. Derive it from the cause (e.g. the request id) or draw it at random.
/// </summary>
public readonly record struct OperationId(Guid Value)
{
    /// <summary>A new random id.</summary>
    public static OperationId New() => new(Guid.NewGuid());

    /// <summary>A deterministic id from a purpose and a key (e.g. <c>escrow-open</c> + request id).</summary>
    public static OperationId Derive(string purpose, ReadOnlySpan<byte> key)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        byte[] purposeBytes = System.Text.Encoding.UTF8.GetBytes(purpose);
        byte[] buffer = new byte[purposeBytes.Length + 1 + key.Length];
        purposeBytes.CopyTo(buffer, 0);
        key.CopyTo(buffer.AsSpan(purposeBytes.Length + 1));
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(buffer, hash);
        return new OperationId(new Guid(hash[..16]));
    }

    /// <inheritdoc />
    public override string ToString() => Value.ToString("N");
}

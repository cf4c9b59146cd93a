using Google.Protobuf;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Protocol;
using PoIP.Core.Protocol.Wire;
using PoIP.Core.Signing;

namespace PoIP.Core.Proofs;

/// <summary>
/// A signed request that a convicted fraud case be judged again by validators drawn afresh before
/// its slash executes. Only a party the conviction would slash may appeal: the accused node, or a
/// validator whose verdict lost. Rules: docs/proofs.md, "Validator accountability".
/// </summary>
public sealed record Appeal : IProtocolMessage<Appeal>
{
    private const string TypeName = nameof(Appeal);

    /// <summary>The case: SHA-256 of the judged receipt envelope.</summary>
    public required ReceiptId ReceiptId { get; init; }

    /// <summary>Who appeals (must be the envelope's signer).</summary>
    public required PeerId AppellantId { get; init; }

    /// <summary>When it was issued.</summary>
    public required DateTimeOffset IssuedAt { get; init; }

    /// <inheritdoc />
    public static EnvelopeType EnvelopeType => EnvelopeType.Appeal;

    /// <inheritdoc />
    public byte[] Encode() => new AppealProto
    {
        Version = WireFields.CurrentVersion,
        ReceiptHash = WireFields.Bytes(ReceiptId.Digest),
        AppellantId = WireFields.Bytes(AppellantId),
        IssuedAtUnixMs = IssuedAt.ToUnixTimeMilliseconds(),
    }.ToByteArray();

    /// <inheritdoc />
    public static Appeal Decode(ReadOnlySpan<byte> bytes)
    {
        var p = WireFields.Parse(AppealProto.Parser, bytes, EnvelopeType.MaxEncodedLength, TypeName);
        WireFields.CheckVersion(p.Version, TypeName);
        if (p.IssuedAtUnixMs is < 0 or > 253402300799999)
        {
            throw WireFields.Invalid(TypeName, "time out of range.");
        }

        return new Appeal
        {
            ReceiptId = new ReceiptId(WireFields.Digest(p.ReceiptHash, TypeName, "receipt_hash")),
            AppellantId = WireFields.Peer(p.AppellantId, TypeName, "appellant_id"),
            IssuedAt = DateTimeOffset.FromUnixTimeMilliseconds(p.IssuedAtUnixMs),
        };
    }
}

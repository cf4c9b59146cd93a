using Google.Protobuf;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Protocol;
using PoIP.Core.Protocol.Wire;
using PoIP.Core.Signing;

namespace PoIP.Core.Proofs;

/// <summary>A validator's signed judgement of one receipt.</summary>
public sealed record Verdict : IProtocolMessage<Verdict>
{
    private const string TypeName = nameof(Verdict);

    /// <summary>SHA-256 of the judged receipt envelope.</summary>
    public required ReceiptId ReceiptId { get; init; }

    /// <summary>The node that issued the receipt.</summary>
    public required PeerId NodeId { get; init; }

    /// <summary>The validator (must be the envelope's signer).</summary>
    public required PeerId ValidatorId { get; init; }

    /// <summary>The conclusion.</summary>
    public required VerdictOutcome Outcome { get; init; }

    /// <summary>Why, for fraud or inconclusive verdicts.</summary>
    public FraudReason Reason { get; init; }

    /// <summary>First output position that failed, or -1.</summary>
    public int FirstFailingPosition { get; init; } = -1;

    /// <summary>Human-readable detail (at most 512 characters).</summary>
    public string Detail { get; init; } = string.Empty;

    /// <summary>When it was issued.</summary>
    public required DateTimeOffset IssuedAt { get; init; }

    /// <inheritdoc />
    public static EnvelopeType EnvelopeType => EnvelopeType.Verdict;

    /// <inheritdoc />
    public byte[] Encode() => new VerdictProto
    {
        Version = WireFields.CurrentVersion,
        ReceiptHash = WireFields.Bytes(ReceiptId.Digest),
        NodeId = WireFields.Bytes(NodeId),
        ValidatorId = WireFields.Bytes(ValidatorId),
        Outcome = (uint)Outcome,
        Reason = (uint)Reason,
        FirstFailingPosition = FirstFailingPosition,
        Detail = Detail,
        IssuedAtUnixMs = IssuedAt.ToUnixTimeMilliseconds(),
    }.ToByteArray();

    /// <inheritdoc />
    public static Verdict Decode(ReadOnlySpan<byte> bytes)
    {
        var p = WireFields.Parse(VerdictProto.Parser, bytes, EnvelopeType.MaxEncodedLength, TypeName);
        WireFields.CheckVersion(p.Version, TypeName);
        WireFields.CheckLength(p.Detail.Length, 512, TypeName, "detail");
        if (p.Outcome is < 1 or > 3 || p.Reason > (uint)FraudReason.BadSignature || p.FirstFailingPosition < -1 || p.IssuedAtUnixMs is < 0 or > 253402300799999)
        {
            throw WireFields.Invalid(TypeName, "outcome, reason, position or time out of range.");
        }

        return new Verdict
        {
            ReceiptId = new ReceiptId(WireFields.Digest(p.ReceiptHash, TypeName, "receipt_hash")),
            NodeId = WireFields.Peer(p.NodeId, TypeName, "node_id"),
            ValidatorId = WireFields.Peer(p.ValidatorId, TypeName, "validator_id"),
            Outcome = (VerdictOutcome)p.Outcome,
            Reason = (FraudReason)p.Reason,
            FirstFailingPosition = p.FirstFailingPosition,
            Detail = p.Detail,
            IssuedAt = DateTimeOffset.FromUnixTimeMilliseconds(p.IssuedAtUnixMs),
        };
    }
}

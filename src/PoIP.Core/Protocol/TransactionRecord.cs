using Google.Protobuf;
using PoIP.Core.Hashing;
using PoIP.Core.Protocol.Wire;
using PoIP.Core.Signing;

namespace PoIP.Core.Protocol;

/// <summary>
/// Metadata of one transaction as stored in the transaction layer (the DHT), under its request id:
/// the client's signed request and, once served, the node's signed receipt. Two different records
/// signed by the same node for one request are equivocation.
/// </summary>
public sealed record TransactionRecord : IProtocolMessage<TransactionRecord>
{
    private const string TypeName = nameof(TransactionRecord);

    /// <summary>The request id (SHA-256 of <see cref="RequestEnvelope"/>).</summary>
    public required RequestId RequestId { get; init; }

    /// <summary>The client's signed request envelope.</summary>
    public required ReadOnlyMemory<byte> RequestEnvelope { get; init; }

    /// <summary>The node's signed receipt envelope, or empty while pending.</summary>
    public ReadOnlyMemory<byte> ReceiptEnvelope { get; init; }

    /// <summary>Who recorded it.</summary>
    public required TransactionRole Role { get; init; }

    /// <summary>When it was recorded.</summary>
    public required DateTimeOffset RecordedAt { get; init; }

    /// <inheritdoc />
    public static EnvelopeType EnvelopeType => EnvelopeType.TransactionRecord;

    /// <inheritdoc />
    public byte[] Encode() => new TransactionRecordProto
    {
        Version = WireFields.CurrentVersion,
        RequestId = WireFields.Bytes(RequestId.Digest),
        RequestEnvelope = WireFields.Bytes(RequestEnvelope),
        ReceiptEnvelope = WireFields.Bytes(ReceiptEnvelope),
        Role = (uint)Role,
        RecordedAtUnixMs = RecordedAt.ToUnixTimeMilliseconds(),
    }.ToByteArray();

    /// <inheritdoc />
    public static TransactionRecord Decode(ReadOnlySpan<byte> bytes)
    {
        var p = WireFields.Parse(TransactionRecordProto.Parser, bytes, EnvelopeType.MaxEncodedLength, TypeName);
        WireFields.CheckVersion(p.Version, TypeName);
        WireFields.CheckLength(p.RequestEnvelope.Length, EnvelopeType.InferenceRequest.MaxEncodedLength, TypeName, "request_envelope");
        WireFields.CheckLength(p.ReceiptEnvelope.Length, EnvelopeType.InferenceReceipt.MaxEncodedLength, TypeName, "receipt_envelope");
        if (p.Role is < 1 or > 3 || p.RecordedAtUnixMs is < 0 or > 253402300799999)
        {
            throw WireFields.Invalid(TypeName, "role or time out of range.");
        }

        var requestId = new RequestId(WireFields.Digest(p.RequestId, TypeName, "request_id"));
        if (requestId != RequestId.FromEnvelope(p.RequestEnvelope.Span))
        {
            throw WireFields.Invalid(TypeName, "request_id is not the hash of request_envelope.");
        }

        return new TransactionRecord
        {
            RequestId = requestId,
            RequestEnvelope = p.RequestEnvelope.ToByteArray(),
            ReceiptEnvelope = p.ReceiptEnvelope.ToByteArray(),
            Role = (TransactionRole)p.Role,
            RecordedAt = DateTimeOffset.FromUnixTimeMilliseconds(p.RecordedAtUnixMs),
        };
    }
}

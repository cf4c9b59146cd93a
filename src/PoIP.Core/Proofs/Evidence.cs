using Google.Protobuf;
using PoIP.Core.Identity;
using PoIP.Core.Protocol;
using PoIP.Core.Protocol.Wire;
using PoIP.Core.Signing;

namespace PoIP.Core.Proofs;

/// <summary>
/// Slashable evidence: self-contained signed envelopes that anyone can re-check before acting.
/// For <see cref="EvidenceKind.FraudVerdict"/>: the verdict, the request and the receipt; for
/// <see cref="EvidenceKind.Equivocation"/>: two conflicting records signed by the accused.
/// </summary>
public sealed record Evidence : IProtocolMessage<Evidence>
{
    private const string TypeName = nameof(Evidence);

    /// <summary>The kind.</summary>
    public required EvidenceKind Kind { get; init; }

    /// <summary>The accused node.</summary>
    public required PeerId AccusedId { get; init; }

    /// <summary>The verdict envelope, or the first conflicting record envelope.</summary>
    public required ReadOnlyMemory<byte> First { get; init; }

    /// <summary>The second conflicting record envelope (equivocation only).</summary>
    public ReadOnlyMemory<byte> Second { get; init; }

    /// <summary>The request envelope (fraud only).</summary>
    public ReadOnlyMemory<byte> RequestEnvelope { get; init; }

    /// <summary>The receipt envelope (fraud only).</summary>
    public ReadOnlyMemory<byte> ReceiptEnvelope { get; init; }

    /// <inheritdoc />
    public static EnvelopeType EnvelopeType => EnvelopeType.Evidence;

    /// <inheritdoc />
    public byte[] Encode() => new EvidenceProto
    {
        Version = WireFields.CurrentVersion,
        Kind = (uint)Kind,
        AccusedId = WireFields.Bytes(AccusedId),
        First = WireFields.Bytes(First),
        Second = WireFields.Bytes(Second),
        RequestEnvelope = WireFields.Bytes(RequestEnvelope),
        ReceiptEnvelope = WireFields.Bytes(ReceiptEnvelope),
    }.ToByteArray();

    /// <inheritdoc />
    public static Evidence Decode(ReadOnlySpan<byte> bytes)
    {
        var p = WireFields.Parse(EvidenceProto.Parser, bytes, EnvelopeType.MaxEncodedLength, TypeName);
        WireFields.CheckVersion(p.Version, TypeName);
        if (p.Kind is < 1 or > 2)
        {
            throw WireFields.Invalid(TypeName, "unknown evidence kind.");
        }

        int recordLimit = EnvelopeType.TransactionRecord.MaxEncodedLength;
        WireFields.CheckLength(p.First.Length, recordLimit, TypeName, "first");
        WireFields.CheckLength(p.Second.Length, recordLimit, TypeName, "second");
        WireFields.CheckLength(p.RequestEnvelope.Length, EnvelopeType.InferenceRequest.MaxEncodedLength, TypeName, "request_envelope");
        WireFields.CheckLength(p.ReceiptEnvelope.Length, EnvelopeType.InferenceReceipt.MaxEncodedLength, TypeName, "receipt_envelope");
        return new Evidence
        {
            Kind = (EvidenceKind)p.Kind,
            AccusedId = WireFields.Peer(p.AccusedId, TypeName, "accused_id"),
            First = p.First.ToByteArray(),
            Second = p.Second.ToByteArray(),
            RequestEnvelope = p.RequestEnvelope.ToByteArray(),
            ReceiptEnvelope = p.ReceiptEnvelope.ToByteArray(),
        };
    }
}

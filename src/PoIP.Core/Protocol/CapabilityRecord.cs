using Google.Protobuf;
using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol.Wire;
using PoIP.Core.Signing;

namespace PoIP.Core.Protocol;

/// <summary>
/// What a node advertises in the DHT under <c>/poip/cap/&lt;peer id&gt;</c>, signed by the node: the model it
/// serves, its engine, its price per token and its diagnostics. A higher <see cref="Sequence"/> replaces a
/// lower one; the record is void after <see cref="ExpiresAt"/> (the node republishes before then).
/// </summary>
public sealed record CapabilityRecord : IProtocolMessage<CapabilityRecord>
{
    /// <summary>Largest advertised speed, tokens per second.</summary>
    public const double MaxTokensPerSecond = 4_000_000;

    private const string TypeName = nameof(CapabilityRecord);

    /// <summary>The node (must be the envelope's signer).</summary>
    public required PeerId NodeId { get; init; }

    /// <summary>The model it serves.</summary>
    public required ModelId ModelId { get; init; }

    /// <summary>The engine it serves with.</summary>
    public required EngineIdentity Engine { get; init; }

    /// <summary>Its price per generated token.</summary>
    public required TokenAmount PricePerToken { get; init; }

    /// <summary>Its last known-answer test.</summary>
    public required KnownAnswerResult KnownAnswer { get; init; }

    /// <summary>Its measured decode speed (tokens per second; 0 when not measured), kept to 1/1000.</summary>
    public required double TokensPerSecond { get; init; }

    /// <summary>Version of this advertisement: a higher one replaces a lower one.</summary>
    public required ulong Sequence { get; init; }

    /// <summary>When it was signed.</summary>
    public required DateTimeOffset IssuedAt { get; init; }

    /// <summary>When it stops being valid.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <inheritdoc />
    public static EnvelopeType EnvelopeType => EnvelopeType.CapabilityRecord;

    /// <inheritdoc />
    public byte[] Encode() => new CapabilityRecordProto
    {
        Version = WireFields.CurrentVersion,
        NodeId = WireFields.Bytes(NodeId),
        ModelId = WireFields.Bytes(ModelId.Digest),
        Engine = Engine.ToWire(),
        PricePerToken = WireFields.Amount(PricePerToken),
        KnownAnswer = (uint)KnownAnswer,
        TokensPerSecondMilli = (uint)Math.Round(Math.Clamp(TokensPerSecond, 0, MaxTokensPerSecond) * 1000),
        Sequence = Sequence,
        IssuedAtUnixMs = IssuedAt.ToUnixTimeMilliseconds(),
        ExpiresAtUnixMs = ExpiresAt.ToUnixTimeMilliseconds(),
    }.ToByteArray();

    /// <inheritdoc />
    public static CapabilityRecord Decode(ReadOnlySpan<byte> bytes)
    {
        var p = WireFields.Parse(CapabilityRecordProto.Parser, bytes, EnvelopeType.MaxEncodedLength, TypeName);
        WireFields.CheckVersion(p.Version, TypeName);
        if (p.KnownAnswer > (uint)KnownAnswerResult.Failed
            || p.TokensPerSecondMilli > MaxTokensPerSecond * 1000
            || p.IssuedAtUnixMs is < 0 or > 253402300799999
            || p.ExpiresAtUnixMs is < 0 or > 253402300799999
            || p.ExpiresAtUnixMs <= p.IssuedAtUnixMs)
        {
            throw WireFields.Invalid(TypeName, "known-answer result, speed or times out of range.");
        }

        return new CapabilityRecord
        {
            NodeId = WireFields.Peer(p.NodeId, TypeName, "node_id"),
            ModelId = new ModelId(WireFields.Digest(p.ModelId, TypeName, "model_id")),
            Engine = EngineIdentity.FromWire(p.Engine, TypeName),
            PricePerToken = WireFields.Amount(p.PricePerToken),
            KnownAnswer = (KnownAnswerResult)p.KnownAnswer,
            TokensPerSecond = p.TokensPerSecondMilli / 1000.0,
            Sequence = p.Sequence,
            IssuedAt = DateTimeOffset.FromUnixTimeMilliseconds(p.IssuedAtUnixMs),
            ExpiresAt = DateTimeOffset.FromUnixTimeMilliseconds(p.ExpiresAtUnixMs),
        };
    }
}

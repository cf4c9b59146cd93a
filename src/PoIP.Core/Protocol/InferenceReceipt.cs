using Google.Protobuf;
using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol.Wire;
using PoIP.Core.Signing;

namespace PoIP.Core.Protocol;

/// <summary>
/// What a node signs when it has served a request: which request, what input it saw, what it
/// produced (Merkle root of the output token ids), the activation commitment, the engine and the price.
/// </summary>
public sealed record InferenceReceipt : IProtocolMessage<InferenceReceipt>
{
    /// <summary>Largest commitment accepted, in bytes.</summary>
    public const int MaxCommitmentLength = 240 * 1024;

    private const string TypeName = nameof(InferenceReceipt);

    /// <summary>SHA-256 of the signed request envelope (the request id).</summary>
    public required RequestId RequestId { get; init; }

    /// <summary>The node that served it (must be the envelope's signer).</summary>
    public required PeerId NodeId { get; init; }

    /// <summary>The model that was run.</summary>
    public required ModelId ModelId { get; init; }

    /// <summary>Merkle root the node recomputed from the input it received.</summary>
    public required Sha256Digest InputRoot { get; init; }

    /// <summary>Merkle root of the output token ids (<see cref="Merkle.MerkleTree.FromTokens"/>).</summary>
    public required Sha256Digest OutputRoot { get; init; }

    /// <summary>Number of output tokens.</summary>
    public required int OutputTokenCount { get; init; }

    /// <summary>The activation commitment, in the proof layer's encoding.</summary>
    public required ReadOnlyMemory<byte> Commitment { get; init; }

    /// <summary>The engine that computed it.</summary>
    public required EngineIdentity Engine { get; init; }

    /// <summary>Timings (informational).</summary>
    public required InferenceTimings Timings { get; init; }

    /// <summary>The price charged (at most the request's cap).</summary>
    public required TokenAmount Price { get; init; }

    /// <summary>Why generation ended.</summary>
    public required StopReason StopReason { get; init; }

    /// <summary>When the receipt was issued.</summary>
    public required DateTimeOffset IssuedAt { get; init; }

    /// <inheritdoc />
    public static EnvelopeType EnvelopeType => EnvelopeType.InferenceReceipt;

    /// <inheritdoc />
    public byte[] Encode() => new InferenceReceiptProto
    {
        Version = WireFields.CurrentVersion,
        RequestHash = WireFields.Bytes(RequestId.Digest),
        NodeId = WireFields.Bytes(NodeId),
        InputRoot = WireFields.Bytes(InputRoot),
        OutputRoot = WireFields.Bytes(OutputRoot),
        OutputTokenCount = (uint)OutputTokenCount,
        Commitment = WireFields.Bytes(Commitment),
        Engine = Engine.ToWire(),
        Timings = Timings.ToWire(),
        Price = WireFields.Amount(Price),
        StopReason = (uint)StopReason,
        ModelId = WireFields.Bytes(ModelId.Digest),
        IssuedAtUnixMs = IssuedAt.ToUnixTimeMilliseconds(),
    }.ToByteArray();

    /// <inheritdoc />
    public static InferenceReceipt Decode(ReadOnlySpan<byte> bytes)
    {
        var p = WireFields.Parse(InferenceReceiptProto.Parser, bytes, EnvelopeType.MaxEncodedLength, TypeName);
        WireFields.CheckVersion(p.Version, TypeName);
        WireFields.CheckLength(p.Commitment.Length, MaxCommitmentLength, TypeName, "commitment");
        if (p.OutputTokenCount > InferenceRequest.MaxOutputTokens || p.StopReason > (uint)StopReason.ContextFull || p.IssuedAtUnixMs is < 0 or > 253402300799999)
        {
            throw WireFields.Invalid(TypeName, "token count, stop reason or time out of range.");
        }

        return new InferenceReceipt
        {
            RequestId = new RequestId(WireFields.Digest(p.RequestHash, TypeName, "request_hash")),
            NodeId = WireFields.Peer(p.NodeId, TypeName, "node_id"),
            ModelId = new ModelId(WireFields.Digest(p.ModelId, TypeName, "model_id")),
            InputRoot = WireFields.Digest(p.InputRoot, TypeName, "input_root"),
            OutputRoot = WireFields.Digest(p.OutputRoot, TypeName, "output_root"),
            OutputTokenCount = (int)p.OutputTokenCount,
            Commitment = p.Commitment.ToByteArray(),
            Engine = EngineIdentity.FromWire(p.Engine, TypeName),
            Timings = InferenceTimings.FromWire(p.Timings),
            Price = WireFields.Amount(p.Price),
            StopReason = (StopReason)p.StopReason,
            IssuedAt = DateTimeOffset.FromUnixTimeMilliseconds(p.IssuedAtUnixMs),
        };
    }
}

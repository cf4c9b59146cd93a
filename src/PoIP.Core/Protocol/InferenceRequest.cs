using Google.Protobuf;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol.Wire;
using PoIP.Core.Signing;

namespace PoIP.Core.Protocol;

/// <summary>
/// What a client asks for, signed by the client. The prompt itself travels beside the request;
/// the request binds it through <see cref="InputRoot"/>, the Merkle root of its UTF-8 chunks.
/// </summary>
public sealed record InferenceRequest : IProtocolMessage<InferenceRequest>
{
    /// <summary>Largest prompt accepted, in bytes (1 MiB).</summary>
    public const long MaxInputLength = 1 << 20;

    /// <summary>Largest number of output tokens a request may ask for.</summary>
    public const int MaxOutputTokens = 1 << 16;

    private const string TypeName = nameof(InferenceRequest);

    /// <summary>The model to run.</summary>
    public required ModelId ModelId { get; init; }

    /// <summary>Merkle root of the prompt's UTF-8 bytes in chunks of <see cref="InputChunkSize"/>.</summary>
    public required Sha256Digest InputRoot { get; init; }

    /// <summary>Prompt length in bytes.</summary>
    public required long InputLength { get; init; }

    /// <summary>Bytes per Merkle leaf.</summary>
    public int InputChunkSize { get; init; } = Merkle.MerkleTree.DefaultChunkSize;

    /// <summary>Sampling parameters.</summary>
    public required SamplingParameters Sampling { get; init; }

    /// <summary>Seed of the sampler's PRNG.</summary>
    public required ulong Seed { get; init; }

    /// <summary>Most output tokens to generate.</summary>
    public required int MaxTokens { get; init; }

    /// <summary>The most the client will pay; escrowed when the request starts.</summary>
    public required TokenAmount PriceCap { get; init; }

    /// <summary>The client's peer id (must be the envelope's signer).</summary>
    public required PeerId ClientId { get; init; }

    /// <summary>Unique per client; a node refuses a nonce it has seen.</summary>
    public required ulong Nonce { get; init; }

    /// <summary>After this instant the request must not be served.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <inheritdoc />
    public static EnvelopeType EnvelopeType => EnvelopeType.InferenceRequest;

    /// <inheritdoc />
    public byte[] Encode() => new InferenceRequestProto
    {
        Version = WireFields.CurrentVersion,
        ModelId = WireFields.Bytes(ModelId.Digest),
        InputRoot = WireFields.Bytes(InputRoot),
        InputLength = (ulong)InputLength,
        InputChunkSize = (uint)InputChunkSize,
        Sampling = Sampling.ToWire(),
        Seed = Seed,
        MaxTokens = (uint)MaxTokens,
        PriceCap = WireFields.Amount(PriceCap),
        ClientId = WireFields.Bytes(ClientId),
        Nonce = Nonce,
        ExpiresAtUnixMs = ExpiresAt.ToUnixTimeMilliseconds(),
    }.ToByteArray();

    /// <inheritdoc />
    public static InferenceRequest Decode(ReadOnlySpan<byte> bytes)
    {
        var p = WireFields.Parse(InferenceRequestProto.Parser, bytes, EnvelopeType.MaxEncodedLength, TypeName);
        WireFields.CheckVersion(p.Version, TypeName);
        if (p.InputLength > MaxInputLength || p.InputChunkSize == 0 || p.InputChunkSize > MaxInputLength || p.MaxTokens == 0 || p.MaxTokens > MaxOutputTokens)
        {
            throw WireFields.Invalid(TypeName, "input length, chunk size or max tokens out of range.");
        }

        if (p.ExpiresAtUnixMs is < 0 or > 253402300799999)
        {
            throw WireFields.Invalid(TypeName, "expiry out of range.");
        }

        return new InferenceRequest
        {
            ModelId = new ModelId(WireFields.Digest(p.ModelId, TypeName, "model_id")),
            InputRoot = WireFields.Digest(p.InputRoot, TypeName, "input_root"),
            InputLength = (long)p.InputLength,
            InputChunkSize = (int)p.InputChunkSize,
            Sampling = SamplingParameters.FromWire(p.Sampling, TypeName),
            Seed = p.Seed,
            MaxTokens = (int)p.MaxTokens,
            PriceCap = WireFields.Amount(p.PriceCap),
            ClientId = WireFields.Peer(p.ClientId, TypeName, "client_id"),
            Nonce = p.Nonce,
            ExpiresAt = DateTimeOffset.FromUnixTimeMilliseconds(p.ExpiresAtUnixMs),
        };
    }

    /// <summary>Builds a request for a prompt, computing its Merkle root.</summary>
    public static InferenceRequest ForPrompt(string prompt, ModelId model, PeerId client, SamplingParameters sampling, ulong seed, int maxTokens, TokenAmount priceCap, ulong nonce, DateTimeOffset expiresAt, int chunkSize = Merkle.MerkleTree.DefaultChunkSize)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(prompt);
        return new InferenceRequest
        {
            ModelId = model,
            InputRoot = Merkle.MerkleTree.FromChunks(bytes, chunkSize).Root,
            InputLength = bytes.Length,
            InputChunkSize = chunkSize,
            Sampling = sampling,
            Seed = seed,
            MaxTokens = maxTokens,
            PriceCap = priceCap,
            ClientId = client,
            Nonce = nonce,
            ExpiresAt = expiresAt,
        };
    }

    /// <summary>True when <paramref name="prompt"/> is exactly the input this request was signed for.</summary>
    public bool MatchesInput(ReadOnlySpan<byte> prompt) =>
        prompt.Length == InputLength && Merkle.MerkleTree.FromChunks(prompt, InputChunkSize).Root == InputRoot;
}

using System.Buffers.Binary;
using PoIP.Core.Encoding;
using PoIP.Core.Errors;
using PoIP.Core.Protocol;

namespace PoIP.Inference.Commitments;

/// <summary>
/// A node's compact commitment to the final-norm hidden states of one generation (format v2).
/// For the prompt (its last position, <see cref="CommitmentParameters.PromptTopK"/> entries) and for
/// each chunk of output tokens, the top-k entries (by magnitude) of the chunk's summary vector
/// are interpolated as a polynomial over GF(65521) through the points (index, half-precision bits of
/// the value + binding mask); only the k coefficients are stored, so the indices cost nothing: a
/// verifier evaluates the polynomial at its own top-k indices. Wire format (big-endian):
/// <code>
/// u8 version = 2 | u8 aggregation | u16 top_k | u16 chunk_size | u16 hidden_size | varint output_tokens
/// then the prompt polynomial: prompt_top_k × u16 coefficients (ascending degree, each &lt; 65521)
/// then for each output chunk c: top_k(c) × u16 coefficients
/// </code>
/// where top_k(c) is <see cref="CommitmentParameters.TopKForChunk"/>. Polynomial j (0 = prompt,
/// c + 1 = output chunk c) is masked with the key of chunk j. Immutable.
/// </summary>
public sealed class ActivationCommitment
{
    /// <summary>Current format version (2: the standard k is 60; v1 commitments, k = 128, are refused as another version).</summary>
    public const byte FormatVersion = 2;

    /// <summary>Largest encoding accepted (the receipt's limit).</summary>
    public const int MaxEncodedLength = InferenceReceipt.MaxCommitmentLength;

    private const string TypeName = nameof(ActivationCommitment);
    private const int FixedHeaderLength = 8;

    private readonly ushort[] _coefficients;
    private readonly int[] _chunkOffsets;

    internal ActivationCommitment(CommitmentParameters parameters, int hiddenSize, int outputTokenCount, ushort[] coefficients)
    {
        Parameters = parameters;
        HiddenSize = hiddenSize;
        OutputTokenCount = outputTokenCount;
        _coefficients = coefficients;
        int chunks = parameters.ChunkCount(outputTokenCount);
        _chunkOffsets = new int[chunks + 2];
        _chunkOffsets[1] = parameters.PromptTopK;
        for (int c = 0; c < chunks; c++)
        {
            _chunkOffsets[c + 2] = _chunkOffsets[c + 1] + parameters.TopKForChunk(parameters.TokensInChunk(c, outputTokenCount));
        }

        if (_chunkOffsets[chunks + 1] != coefficients.Length)
        {
            throw new ArgumentException("Coefficient count does not match the parameters.", nameof(coefficients));
        }
    }

    /// <summary>The parameters it was built with.</summary>
    public CommitmentParameters Parameters { get; }

    /// <summary>Width of the committed hidden states.</summary>
    public int HiddenSize { get; }

    /// <summary>Output tokens covered.</summary>
    public int OutputTokenCount { get; }

    /// <summary>Number of output chunks (the prompt polynomial comes on top).</summary>
    public int ChunkCount => _chunkOffsets.Length - 2;

    /// <summary>Encoded length in bytes.</summary>
    public int EncodedLength => HeaderLength(OutputTokenCount) + (2 * _coefficients.Length);

    /// <summary>Length of the header for an output of <paramref name="outputTokens"/> tokens.</summary>
    public static int HeaderLength(int outputTokens) => FixedHeaderLength + UnsignedVarint.GetLength((ulong)Math.Max(0, outputTokens));

    /// <summary>The coefficients of polynomial <paramref name="polynomial"/> (0 = prompt, c + 1 = output chunk c; ascending degree).</summary>
    internal ReadOnlySpan<ushort> Polynomial(int polynomial) => _coefficients.AsSpan(_chunkOffsets[polynomial], _chunkOffsets[polynomial + 1] - _chunkOffsets[polynomial]);

    /// <summary>Encodes the commitment.</summary>
    public byte[] Encode()
    {
        byte[] bytes = new byte[EncodedLength];
        bytes[0] = FormatVersion;
        bytes[1] = (byte)Parameters.Aggregation;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)Parameters.TopK);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), (ushort)Parameters.ChunkSize);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(6), (ushort)HiddenSize);
        int offset = FixedHeaderLength + UnsignedVarint.Write(bytes.AsSpan(FixedHeaderLength), (ulong)OutputTokenCount);
        foreach (ushort coefficient in _coefficients)
        {
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(offset), coefficient);
            offset += 2;
        }

        return bytes;
    }

    /// <summary>Decodes and validates a commitment (size limit first, then header, then exact length and field range).</summary>
    /// <exception cref="PoIPDecodeException">The bytes are oversize, truncated, of another version, or malformed.</exception>
    public static ActivationCommitment Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxEncodedLength)
        {
            throw new PoIPDecodeException(TypeName, DecodeErrorKind.Oversize, $"{bytes.Length} bytes exceed the limit of {MaxEncodedLength}.");
        }

        if (bytes.Length < 1)
        {
            throw new PoIPDecodeException(TypeName, DecodeErrorKind.Truncated, "empty input.");
        }

        if (bytes[0] != FormatVersion)
        {
            throw new PoIPDecodeException(TypeName, DecodeErrorKind.WrongVersion, $"version {bytes[0]} is not supported (expected {FormatVersion}).");
        }

        if (bytes.Length < FixedHeaderLength + 1)
        {
            throw new PoIPDecodeException(TypeName, DecodeErrorKind.Truncated, "header is incomplete.");
        }

        var parameters = new CommitmentParameters
        {
            Aggregation = (CommitmentAggregation)bytes[1],
            TopK = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]),
            ChunkSize = BinaryPrimitives.ReadUInt16BigEndian(bytes[4..]),
        };
        int hiddenSize = BinaryPrimitives.ReadUInt16BigEndian(bytes[6..]);
        string? problem = parameters.Validate(hiddenSize);
        if (problem is not null)
        {
            throw new PoIPDecodeException(TypeName, DecodeErrorKind.InvalidField, problem);
        }

        var status = UnsignedVarint.TryRead(bytes[FixedHeaderLength..], out ulong count, out int read);
        if (status == UnsignedVarint.ReadStatus.NeedMoreData)
        {
            throw new PoIPDecodeException(TypeName, DecodeErrorKind.Truncated, "output token count is incomplete.");
        }

        if (status != UnsignedVarint.ReadStatus.Ok)
        {
            throw new PoIPDecodeException(TypeName, DecodeErrorKind.Malformed, "output token count is not a minimal varint.");
        }

        if (count > InferenceRequest.MaxOutputTokens)
        {
            throw new PoIPDecodeException(TypeName, DecodeErrorKind.InvalidField, $"output token count {count} exceeds {InferenceRequest.MaxOutputTokens}.");
        }

        int outputTokens = (int)count;
        long expected = parameters.EncodedLength(outputTokens);
        if (bytes.Length < expected)
        {
            throw new PoIPDecodeException(TypeName, DecodeErrorKind.Truncated, $"{bytes.Length} bytes, expected {expected}.");
        }

        if (bytes.Length > expected)
        {
            throw new PoIPDecodeException(TypeName, DecodeErrorKind.Malformed, $"{bytes.Length - expected} trailing bytes.");
        }

        int offset = FixedHeaderLength + read;
        var coefficients = new ushort[(bytes.Length - offset) / 2];
        for (int i = 0; i < coefficients.Length; i++, offset += 2)
        {
            ushort value = BinaryPrimitives.ReadUInt16BigEndian(bytes[offset..]);
            if (value >= PrimeField.P)
            {
                throw new PoIPDecodeException(TypeName, DecodeErrorKind.Malformed, $"coefficient {i} is not an element of GF({PrimeField.P}).");
            }

            coefficients[i] = value;
        }

        return new ActivationCommitment(parameters, hiddenSize, outputTokens, coefficients);
    }
}

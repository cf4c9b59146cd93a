using FsCheck;
using FsCheck.Fluent;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Inference.Commitments;

namespace PoIP.Inference.Tests.Commitments;

public sealed class ActivationCommitmentTests
{
    internal static readonly EngineIdentity Engine = new("llama.cpp", "c0c7e147", "cpu", "avx512", false, "f16", 512);

    internal static CommitmentBinding Binding(string salt = "a") => new(
        new RequestId(Sha256Digest.Compute(System.Text.Encoding.UTF8.GetBytes("request" + salt))),
        new ModelId(Sha256Digest.Compute("model"u8)),
        Engine,
        Sha256Digest.Compute("input"u8),
        Sha256Digest.Compute("output"u8));

    internal static ActivationCommitment Build(float[][] states, int hiddenSize, CommitmentParameters? parameters = null, CommitmentBinding? binding = null)
    {
        var builder = new CommitmentBuilder(parameters ?? CommitmentParameters.Standard(hiddenSize, states.Length), hiddenSize, states.Length);
        builder.OnPrefill(5, states.Length > 0 ? states[0] : new float[hiddenSize]);
        for (int i = 0; i < states.Length; i++)
        {
            builder.OnToken(i, 7, states[i], ReadOnlySpan<float>.Empty);
        }

        return builder.Build(binding ?? Binding());
    }

    [Fact]
    public void Standard_StoriesWidth_UsesHalfTheWidth()
    {
        var parameters = CommitmentParameters.Standard(64, 256);
        Assert.Equal(32, parameters.TopK);
        Assert.Equal(32, parameters.ChunkSize);
        Assert.Equal(CommitmentAggregation.Mean, parameters.Aggregation);
    }

    [Fact]
    public void Standard_LongestRequest_FitsTheReceiptLimit()
    {
        var parameters = CommitmentParameters.Standard(4096, Core.Protocol.InferenceRequest.MaxOutputTokens);
        Assert.True(parameters.ChunkSize > 32);
        Assert.True(parameters.EncodedLength(Core.Protocol.InferenceRequest.MaxOutputTokens) <= ActivationCommitment.MaxEncodedLength);
    }

    [Theory]
    [InlineData(256, 3.92)]
    [InlineData(1024, 3.8)]
    [InlineData(100, 4.34)]
    public void EncodedLength_K60Chunk32_AtMostFourBytesPerTokenFrom256(int tokens, double maxBytesPerToken)
    {
        var states = SyntheticActivations.Generate(1, tokens, 512);
        var commitment = Build(states, 512);
        byte[] bytes = commitment.Encode();
        Assert.Equal(CommitmentParameters.Standard(512, tokens).EncodedLength(tokens), bytes.Length);
        Assert.True(bytes.Length / (double)tokens <= maxBytesPerToken, $"{bytes.Length / (double)tokens} B/token");
    }

    [Fact]
    public void Decode_Encoded_RoundTrips()
    {
        var commitment = Build(SyntheticActivations.Generate(2, 70, 64), 64);
        byte[] bytes = commitment.Encode();
        var decoded = ActivationCommitment.Decode(bytes);
        Assert.Equal(commitment.Parameters, decoded.Parameters);
        Assert.Equal(70, decoded.OutputTokenCount);
        Assert.Equal(64, decoded.HiddenSize);
        Assert.Equal(3, decoded.ChunkCount);
        Assert.Equal(bytes, decoded.Encode());
    }

    [Fact]
    public void Decode_EmptyOutput_RoundTrips()
    {
        var commitment = Build([], 64);
        Assert.Equal(0, ActivationCommitment.Decode(commitment.Encode()).ChunkCount);
    }

    [Fact]
    public void Decode_Oversize_ThrowsOversize()
    {
        var error = Assert.Throws<PoIPDecodeException>(() => ActivationCommitment.Decode(new byte[ActivationCommitment.MaxEncodedLength + 1]));
        Assert.Equal(DecodeErrorKind.Oversize, error.Kind);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Decode_OtherVersion_ThrowsWrongVersion(byte version)
    {
        byte[] bytes = Build(SyntheticActivations.Generate(3, 10, 64), 64).Encode();
        bytes[0] = version;
        Assert.Equal(DecodeErrorKind.WrongVersion, Assert.Throws<PoIPDecodeException>(() => ActivationCommitment.Decode(bytes)).Kind);
    }

    [Fact]
    public void Decode_TruncatedOrExtended_ThrowsTypedErrors()
    {
        byte[] bytes = Build(SyntheticActivations.Generate(3, 10, 64), 64).Encode();
        Assert.Equal(DecodeErrorKind.Truncated, Assert.Throws<PoIPDecodeException>(() => ActivationCommitment.Decode(bytes.AsSpan(0, bytes.Length - 1))).Kind);
        Assert.Equal(DecodeErrorKind.Malformed, Assert.Throws<PoIPDecodeException>(() => ActivationCommitment.Decode([.. bytes, 0])).Kind);
    }

    [Fact]
    public void Decode_CoefficientOutsideField_ThrowsMalformed()
    {
        byte[] bytes = Build(SyntheticActivations.Generate(3, 10, 64), 64).Encode();
        bytes[^1] = 0xFF;
        bytes[^2] = 0xFF;
        Assert.Equal(DecodeErrorKind.Malformed, Assert.Throws<PoIPDecodeException>(() => ActivationCommitment.Decode(bytes)).Kind);
    }

    [Fact]
    public void Decode_TopKAboveWidth_ThrowsInvalidField()
    {
        byte[] bytes = Build(SyntheticActivations.Generate(3, 10, 64), 64).Encode();
        bytes[2] = 0;
        bytes[3] = 65;
        Assert.Equal(DecodeErrorKind.InvalidField, Assert.Throws<PoIPDecodeException>(() => ActivationCommitment.Decode(bytes)).Kind);
    }

    [FsCheck.Xunit.Property(MaxTest = 500)]
    public Property Decode_RandomBytes_OnlyDecodeErrorsOrValid(byte[] bytes)
    {
        return DecodesOrThrowsTyped(bytes).ToProperty();
    }

    [FsCheck.Xunit.Property(MaxTest = 500)]
    public Property Decode_MutatedValidBytes_OnlyDecodeErrorsOrValid(int seed, byte mask, PositiveInt position)
    {
        var random = new Random(seed);
        byte[] bytes = Build(SyntheticActivations.Generate(seed, 1 + random.Next(80), 64), 64).Encode();
        bytes[position.Get % bytes.Length] ^= mask;
        if (random.Next(4) == 0)
        {
            bytes = bytes.AsSpan(0, random.Next(bytes.Length)).ToArray();
        }

        return DecodesOrThrowsTyped(bytes).ToProperty();
    }

    private static bool DecodesOrThrowsTyped(byte[] bytes)
    {
        try
        {
            var commitment = ActivationCommitment.Decode(bytes);
            return commitment.Encode().AsSpan().SequenceEqual(bytes);
        }
        catch (PoIPDecodeException)
        {
            return true;
        }
    }
}

using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.TestUtils;

namespace PoIP.Core.Tests.Protocol;

public sealed class CapabilityRecordTests
{
    private static readonly Ed25519KeyPair Node = Ed25519KeyPair.Generate();

    private static CapabilityRecord Sample(ulong sequence = 1, double tokensPerSecond = 123.456) => new()
    {
        NodeId = Node.PeerId,
        ModelId = new ModelId(Sha256Digest.Compute("model"u8)),
        Engine = new EngineIdentity("llama.cpp", "c0c7e147", "cpu", "avx2", false, "f16", 512),
        PricePerToken = TokenAmount.ParseTokens("0.0001"),
        KnownAnswer = KnownAnswerResult.Passed,
        TokensPerSecond = tokensPerSecond,
        Sequence = sequence,
        IssuedAt = SampleMessages.Now,
        ExpiresAt = SampleMessages.Now.AddHours(1),
    };

    [Fact]
    public void SignThenOpen_Sample_SameRecord()
    {
        var signed = SignedMessage.Create(Node, Sample());
        var opened = SignedMessage.Open<CapabilityRecord>(signed.Envelope.Encoded);
        Assert.Equal(signed.Message, opened.Message);
        Assert.Equal(Node.PeerId, opened.Signer);
    }

    [Property(MaxTest = 500)]
    public Property EncodeThenDecode_AnySequenceAndSpeed_RoundTrips() =>
        Prop.ForAll(ArbMap.Default.ArbFor<ulong>(), Gen.Choose(0, 4_000_000).Select(x => x / 7.0).ToArbitrary(), (sequence, speed) =>
        {
            var record = Sample(sequence, speed);
            var decoded = CapabilityRecord.Decode(record.Encode());
            return decoded.Sequence == sequence && Math.Abs(decoded.TokensPerSecond - speed) <= 0.0005 && decoded.Encode().AsSpan().SequenceEqual(record.Encode());
        });

    [Fact]
    public void Decode_ExpiryNotAfterIssue_Refused()
    {
        byte[] bytes = (Sample() with { ExpiresAt = SampleMessages.Now }).Encode();
        Assert.Throws<PoIPDecodeException>(() => CapabilityRecord.Decode(bytes));
    }

    [Fact]
    public void Decode_Oversize_Refused() =>
        Assert.Equal(DecodeErrorKind.Oversize, Assert.Throws<PoIPDecodeException>(() => CapabilityRecord.Decode(new byte[4096])).Kind);

    [Fact]
    public void ModelId_ToMultihash_IsSha256MultihashAndParsesBack()
    {
        var model = new ModelId(Sha256Digest.Compute("gguf"u8));
        byte[] multihash = model.ToMultihash();
        Assert.Equal(new byte[] { 0x12, 0x20 }, multihash[..2]);
        Assert.True(ModelId.TryFromMultihash(multihash, out var back));
        Assert.Equal(model, back);
        Assert.False(ModelId.TryFromMultihash(multihash.AsSpan(1), out _));
    }
}

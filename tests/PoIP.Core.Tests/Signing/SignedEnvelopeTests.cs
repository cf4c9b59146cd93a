using Google.Protobuf;
using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Core.Protocol.Wire;
using PoIP.Core.Signing;

namespace PoIP.Core.Tests.Signing;

public sealed class SignedEnvelopeTests
{
    private static readonly EnvelopeType TestType = new("poip-test", "/poip/test/1", 4096);

    [Fact]
    public void Seal_ThenOpen_ReturnsPayloadAndSigner()
    {
        using var key = Ed25519KeyPair.Generate();
        var sealedEnvelope = SignedEnvelope.Seal(key, TestType, [1, 2, 3]);
        var opened = SignedEnvelope.Open(sealedEnvelope.Encoded, TestType);
        Assert.Equal(new byte[] { 1, 2, 3 }, opened.Payload.ToArray());
        Assert.Equal(key.PeerId, opened.Signer);
    }

    [Fact]
    public void Open_OtherDomain_Rejected()
    {
        using var key = Ed25519KeyPair.Generate();
        var envelope = SignedEnvelope.Seal(key, TestType, [1]);
        Assert.Throws<SignatureException>(() => SignedEnvelope.Open(envelope.Encoded, TestType with { Domain = "poip-other" }));
    }

    [Fact]
    public void Open_OtherPayloadType_Rejected()
    {
        using var key = Ed25519KeyPair.Generate();
        var envelope = SignedEnvelope.Seal(key, TestType, [1]);
        Assert.Throws<SignatureException>(() => SignedEnvelope.Open(envelope.Encoded, TestType with { PayloadType = "/poip/other/1" }));
    }

    [Theory]
    [InlineData("payload")]
    [InlineData("signature")]
    [InlineData("key")]
    [InlineData("type")]
    public void Open_TamperedField_Rejected(string field)
    {
        using var key = Ed25519KeyPair.Generate();
        using var other = Ed25519KeyPair.Generate();
        var proto = EnvelopeProto.Parser.ParseFrom(SignedEnvelope.Seal(key, TestType, [1, 2, 3]).Encoded.Span);
        switch (field)
        {
            case "payload": proto.Payload = ByteString.CopyFrom(1, 2, 4); break;
            case "signature": var s = proto.Signature.ToByteArray(); s[10] ^= 1; proto.Signature = ByteString.CopyFrom(s); break;
            case "key": proto.PublicKey.Data = ByteString.CopyFrom(other.PublicKey.Raw); break;
            case "type": proto.PayloadType = ByteString.CopyFromUtf8("/poip/test/2"); break;
        }

        Assert.Throws<SignatureException>(() => SignedEnvelope.Open(proto.ToByteArray(), TestType));
    }

    [Fact]
    public void Open_Oversize_RejectedBeforeParsing()
    {
        var error = Assert.Throws<PoIPDecodeException>(() => SignedEnvelope.Open(new byte[5000], TestType));
        Assert.Equal(DecodeErrorKind.Oversize, error.Kind);
    }

    [Fact]
    public void Seal_PayloadOverLimit_Throws()
    {
        using var key = Ed25519KeyPair.Generate();
        Assert.Throws<ArgumentException>(() => SignedEnvelope.Seal(key, TestType, new byte[5000]));
    }
}

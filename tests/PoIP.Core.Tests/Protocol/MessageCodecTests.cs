using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Google.Protobuf;
using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.TestUtils;

namespace PoIP.Core.Tests.Protocol;

public sealed class MessageCodecTests
{
    private static readonly Ed25519KeyPair Client = Ed25519KeyPair.Generate();
    private static readonly Ed25519KeyPair Node = Ed25519KeyPair.Generate();
    private static readonly SignedMessage<InferenceRequest> SignedRequest = SignedMessage.Create(Client, SampleMessages.Request(Client.PeerId));
    private static readonly SignedMessage<InferenceReceipt> SignedReceipt =
        SignedMessage.Create(Node, SampleMessages.Receipt(Node.PeerId, new PoIP.Core.Hashing.RequestId(SignedRequest.Hash), SignedRequest.Message));

    private static readonly string[] TypeNames = ["request", "receipt", "record", "verdict", "evidence", "appeal"];

    public static TheoryData<string> MessageTypes => new(TypeNames);

    private static byte[] ValidEncoding(string type) => type switch
    {
        "request" => SignedRequest.Message.Encode(),
        "receipt" => SignedReceipt.Message.Encode(),
        "record" => SampleMessages.Record(SignedRequest.Envelope.Encoded, SignedReceipt.Envelope.Encoded).Encode(),
        "verdict" => SampleMessages.Verdict(Node.PeerId, Client.PeerId, new PoIP.Core.Hashing.ReceiptId(SignedReceipt.Hash)).Encode(),
        "appeal" => new Appeal { ReceiptId = new PoIP.Core.Hashing.ReceiptId(SignedReceipt.Hash), AppellantId = Node.PeerId, IssuedAt = DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000) }.Encode(),
        _ => new Evidence { Kind = EvidenceKind.FraudVerdict, AccusedId = Node.PeerId, First = new byte[] { 1 }, RequestEnvelope = SignedRequest.Envelope.Encoded, ReceiptEnvelope = SignedReceipt.Envelope.Encoded }.Encode(),
    };

    private static object Decode(string type, ReadOnlySpan<byte> bytes) => type switch
    {
        "request" => InferenceRequest.Decode(bytes),
        "receipt" => InferenceReceipt.Decode(bytes),
        "record" => TransactionRecord.Decode(bytes),
        "verdict" => Verdict.Decode(bytes),
        "appeal" => Appeal.Decode(bytes),
        _ => Evidence.Decode(bytes),
    };

    private static object Open(string type, byte[] bytes) => type switch
    {
        "request" => SignedMessage.Open<InferenceRequest>(bytes),
        "receipt" => SignedMessage.Open<InferenceReceipt>(bytes),
        "record" => SignedMessage.Open<TransactionRecord>(bytes),
        "verdict" => SignedMessage.Open<Verdict>(bytes),
        "appeal" => SignedMessage.Open<Appeal>(bytes),
        _ => SignedMessage.Open<Evidence>(bytes),
    };

    [Theory]
    [MemberData(nameof(MessageTypes))]
    public void EncodeThenDecode_ValidMessage_ReencodesToSameBytes(string type)
    {
        byte[] bytes = ValidEncoding(type);
        object decoded = Decode(type, bytes);
        byte[] again = ((dynamic)decoded).Encode();
        Assert.Equal(bytes, again);
    }

    [Fact]
    public void Request_RoundTrip_PreservesFields()
    {
        var decoded = InferenceRequest.Decode(SignedRequest.Message.Encode());
        Assert.Equal(SignedRequest.Message, decoded);
        Assert.True(decoded.MatchesInput("Once upon a time"u8));
        Assert.False(decoded.MatchesInput("Once upon a tim3"u8));
    }

    [Fact]
    public void SignedOpen_ValidRequest_SignerIsClient()
    {
        var opened = SignedMessage.Open<InferenceRequest>(SignedRequest.Envelope.Encoded);
        Assert.Equal(Client.PeerId, opened.Signer);
        Assert.Equal(SignedRequest.Hash, opened.Hash);
    }

    [Fact]
    public void SignedOpen_ReceiptBytesAsRequest_Rejected() =>
        Assert.Throws<SignatureException>(() => SignedMessage.Open<InferenceRequest>(SignedReceipt.Envelope.Encoded));

    [Theory]
    [MemberData(nameof(MessageTypes))]
    public void Decode_WrongVersion_TypedError(string type)
    {
        byte[] bytes = ValidEncoding(type);
        bytes[1] = 2; // field 1 (varint) is always first: 0x08 0x01
        Assert.Equal(0x08, bytes[0]);
        var error = Assert.Throws<PoIPDecodeException>(() => Decode(type, bytes));
        Assert.Equal(DecodeErrorKind.WrongVersion, error.Kind);
    }

    [Theory]
    [MemberData(nameof(MessageTypes))]
    public void Decode_Oversize_TypedError(string type)
    {
        var error = Assert.Throws<PoIPDecodeException>(() => Decode(type, new byte[2 * 1024 * 1024]));
        Assert.Equal(DecodeErrorKind.Oversize, error.Kind);
    }

    [Theory]
    [MemberData(nameof(MessageTypes))]
    public void Decode_EveryTruncation_TypedErrorOrValid(string type)
    {
        byte[] bytes = ValidEncoding(type);
        for (int length = 0; length < bytes.Length; length++)
        {
            try
            {
                Decode(type, bytes.AsSpan(0, length));
            }
            catch (PoIPDecodeException)
            {
            }
        }
    }

    [Fact]
    public void Decode_TruncatedInsideField_ReportsTruncated()
    {
        byte[] bytes = ValidEncoding("request");
        var error = Assert.Throws<PoIPDecodeException>(() => InferenceRequest.Decode(bytes.AsSpan(0, 10)));
        Assert.Equal(DecodeErrorKind.Truncated, error.Kind);
    }

    [Property(MaxTest = 3000)]
    public bool Decode_RandomBytes_OnlyTypedErrors(byte[] garbage, byte typeSelector) =>
        DecodesOrTypedError(TypeNames[typeSelector % TypeNames.Length], garbage);

    [Property(MaxTest = 3000)]
    public bool Decode_MutatedValidBytes_OnlyTypedErrors(byte typeSelector, int position, byte value, byte operation)
    {
        string type = TypeNames[typeSelector % TypeNames.Length];
        byte[] bytes = Mutate(ValidEncoding(type), position, value, operation);
        return DecodesOrTypedError(type, bytes);
    }

    [Property(MaxTest = 2000)]
    public bool SignedOpen_MutatedEnvelope_RejectedUnlessUnchanged(byte typeSelector, int position, byte value, byte operation)
    {
        string type = TypeNames[typeSelector % TypeNames.Length];
        byte[] payload = ValidEncoding(type);
        byte[] original = type switch
        {
            "request" => SignedRequest.Envelope.Encoded.ToArray(),
            "receipt" => SignedReceipt.Envelope.Encoded.ToArray(),
            _ => Core.Signing.SignedEnvelope.Seal(Node, EnvelopeTypeOf(type), payload).Encoded.ToArray(),
        };
        byte[] mutated = Mutate(original, position, value, operation);
        try
        {
            Open(type, mutated);
            // Accepted: the signed content (domain, type, payload) must be unchanged.
            var a = Core.Protocol.Wire.EnvelopeProto.Parser.ParseFrom(original);
            var b = Core.Protocol.Wire.EnvelopeProto.Parser.ParseFrom(mutated);
            return a.Payload.Equals(b.Payload) && a.PayloadType.Equals(b.PayloadType) && a.PublicKey.Equals(b.PublicKey);
        }
        catch (PoIPDecodeException)
        {
            return true;
        }
        catch (SignatureException)
        {
            return true;
        }
    }

    private static Core.Signing.EnvelopeType EnvelopeTypeOf(string type) => type switch
    {
        "record" => TransactionRecord.EnvelopeType,
        "verdict" => Verdict.EnvelopeType,
        "appeal" => Appeal.EnvelopeType,
        _ => Evidence.EnvelopeType,
    };

    private static byte[] Mutate(byte[] bytes, int position, byte value, byte operation)
    {
        int at = Math.Abs(position % Math.Max(1, bytes.Length));
        return (operation % 4) switch
        {
            0 => [.. bytes[..at], value, .. bytes[(at + 1)..]],           // replace
            1 => [.. bytes[..at], value, .. bytes[at..]],                 // insert
            2 => [.. bytes[..at], .. bytes[Math.Min(bytes.Length, at + 1)..]], // delete
            _ => bytes[..at],                                              // truncate
        };
    }

    private static bool DecodesOrTypedError(string type, byte[] bytes)
    {
        try
        {
            Decode(type, bytes);
            return true;
        }
        catch (PoIPDecodeException)
        {
            return true;
        }
    }
}

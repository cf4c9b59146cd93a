using Google.Protobuf;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol.Wire;

namespace PoIP.Core.Protocol;

/// <summary>Field conversions between wire messages and domain types, each with its validation.</summary>
internal static class WireFields
{
    public const uint CurrentVersion = 1;

    public static T Parse<T>(MessageParser<T> parser, ReadOnlySpan<byte> bytes, int maxLength, string typeName)
        where T : IMessage<T>
    {
        if (bytes.Length > maxLength)
        {
            throw new PoIPDecodeException(typeName, DecodeErrorKind.Oversize, $"{bytes.Length} bytes exceeds the {maxLength}-byte limit.");
        }

        if (bytes.IsEmpty)
        {
            throw new PoIPDecodeException(typeName, DecodeErrorKind.Truncated, "no bytes.");
        }

        return ProtoDecoding.Parse(parser, bytes.ToArray(), typeName);
    }

    public static void CheckVersion(uint version, string typeName)
    {
        if (version != CurrentVersion)
        {
            throw new PoIPDecodeException(typeName, DecodeErrorKind.WrongVersion, $"version {version}; this code speaks version {CurrentVersion}.");
        }
    }

    public static Sha256Digest Digest(ByteString bytes, string typeName, string field) =>
        Sha256Digest.TryRead(bytes.Span, out var digest) ? digest : throw Invalid(typeName, $"{field} must be 32 bytes, got {bytes.Length}.");

    public static PeerId Peer(ByteString bytes, string typeName, string field) =>
        PeerId.TryFromBytes(bytes.Span, out var id) ? id : throw Invalid(typeName, $"{field} is not a peer id.");

    public static TokenAmount Amount(AmountProto? amount) => amount is null ? TokenAmount.Zero : new TokenAmount(new UInt128(amount.High, amount.Low));

    public static AmountProto Amount(TokenAmount amount) => new() { High = (ulong)(amount.BaseUnits >> 64), Low = (ulong)amount.BaseUnits };

    public static ByteString Bytes(in Sha256Digest digest) => ByteString.CopyFrom(digest.ToArray());

    public static ByteString Bytes(PeerId peer) => ByteString.CopyFrom(peer.Bytes);

    public static ByteString Bytes(ReadOnlyMemory<byte> bytes) => ByteString.CopyFrom(bytes.Span);

    public static void CheckLength(int length, int max, string typeName, string field)
    {
        if (length > max)
        {
            throw Invalid(typeName, $"{field} is {length} long, limit {max}.");
        }
    }

    public static PoIPDecodeException Invalid(string typeName, string detail) => new(typeName, DecodeErrorKind.InvalidField, detail);
}

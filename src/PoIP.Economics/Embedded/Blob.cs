using System.Buffers.Binary;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Economics.Embedded;

/// <summary>How values are stored in SQLite: amounts as 16-byte big-endian blobs (so byte order is numeric order), ids as their bytes.</summary>
internal static class Blob
{
    public static byte[] Of(TokenAmount amount) => Of(amount.BaseUnits);

    public static byte[] Of(UInt128 value)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return bytes;
    }

    public static byte[] Of(PeerId peer) => peer.ToArray();

    public static byte[] Of(RequestId request) => request.Digest.ToArray();

    public static byte[] Of(Guid id) => id.ToByteArray();

    public static UInt128 ToUInt128(object value) => value is byte[] { Length: 16 } bytes
        ? BinaryPrimitives.ReadUInt128BigEndian(bytes)
        : throw new InvalidDataException("A stored amount is not a 16-byte blob.");

    public static TokenAmount ToAmount(object value) => new(ToUInt128(value));

    public static PeerId ToPeer(object value) => value is byte[] bytes && PeerId.TryFromBytes(bytes, out var peer)
        ? peer
        : throw new InvalidDataException("A stored peer id is not a multihash.");

    public static RequestId ToRequest(object value) => value is byte[] { Length: Sha256Digest.Length } bytes
        ? new RequestId(new Sha256Digest(bytes))
        : throw new InvalidDataException("A stored request id is not 32 bytes.");
}

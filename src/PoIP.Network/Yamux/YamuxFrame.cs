using System.Buffers.Binary;

namespace PoIP.Network.Yamux;

internal enum YamuxType : byte
{
    Data = 0,
    WindowUpdate = 1,
    Ping = 2,
    GoAway = 3,
}

[Flags]
internal enum YamuxFlags : ushort
{
    None = 0,
    Syn = 1,
    Ack = 2,
    Fin = 4,
    Rst = 8,
}

/// <summary>A 12-byte Yamux header.</summary>
internal readonly record struct YamuxHeader(YamuxType Type, YamuxFlags Flags, uint StreamId, uint Length)
{
    public const int Size = 12;

    public void Write(Span<byte> destination)
    {
        destination[0] = 0;
        destination[1] = (byte)Type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)Flags);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], StreamId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Length);
    }

    /// <summary>Parses a header; throws <see cref="Libp2pException"/> for a bad version, type or flags.</summary>
    public static YamuxHeader Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
        {
            throw Internal.Errors.Protocol("yamux: truncated header");
        }

        if (source[0] != 0)
        {
            throw Internal.Errors.Protocol($"yamux: unknown version {source[0]}");
        }

        if (source[1] > 3)
        {
            throw Internal.Errors.Protocol($"yamux: unknown frame type {source[1]}");
        }

        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(source[2..]);
        if ((flags & ~0xF) != 0)
        {
            throw Internal.Errors.Protocol($"yamux: unknown flags 0x{flags:x}");
        }

        return new YamuxHeader((YamuxType)source[1], (YamuxFlags)flags, BinaryPrimitives.ReadUInt32BigEndian(source[4..]), BinaryPrimitives.ReadUInt32BigEndian(source[8..]));
    }
}

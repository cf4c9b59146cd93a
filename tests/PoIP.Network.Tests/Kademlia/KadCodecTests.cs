using FsCheck;
using FsCheck.Fluent;
using Google.Protobuf;
using PoIP.Core.Errors;
using PoIP.Network.Kademlia;
using PoIP.Network.Kademlia.Testing;
using PoIP.Network.Kademlia.Wire;
using Xunit;
using Record = PoIP.Network.Kademlia.Wire.Record;

namespace PoIP.Network.Tests.Kademlia;

public class KadCodecTests
{
    [Fact]
    public void EncodeFrame_GetValue_MatchesJsGoldenFrame()
    {
        var m = new Message { Type = Message.Types.MessageType.GetValue, Key = ByteString.CopyFromUtf8("/poip/tx/abc") };
        Assert.Equal("100801120c2f706f69702f74782f616263", Convert.ToHexStringLower(KadCodec.EncodeFrame(m)));
    }

    [Fact]
    public void EncodeFrame_Ping_MatchesJsGoldenFrame()
    {
        Assert.Equal("020805", Convert.ToHexStringLower(KadCodec.EncodeFrame(new Message { Type = Message.Types.MessageType.Ping })));
    }

    [Fact]
    public void Decode_MissingType_IsPutValue()
    {
        // js omits type 0: key "k" and a record only.
        var m = KadCodec.Decode(Convert.FromHexString("12016b1a06 0a016b120176".Replace(" ", "", StringComparison.Ordinal)), 1024);
        Assert.Equal(Message.Types.MessageType.PutValue, m.Type);
        Assert.Equal("v", m.Record.Value.ToStringUtf8());
    }

    [Fact]
    public void Decode_Oversized_Throws()
    {
        var ex = Assert.Throws<PoIPDecodeException>(() => KadCodec.Decode(new byte[5000], 4096));
        Assert.Equal(DecodeErrorKind.Oversize, ex.Kind);
    }

    [Fact]
    public void Decode_Garbage_ThrowsDecodeError()
    {
        Assert.Throws<PoIPDecodeException>(() => KadCodec.Decode([0x0a, 0xff, 0xff, 0xff, 0x0f], 1024));
    }

    [Fact]
    public void ReadPeers_ThousandsOfCloserPeers_KeepsAtMost2000()
    {
        var m = new Message { Type = Message.Types.MessageType.FindNode };
        for (int i = 0; i < 2500; i++)
        {
            m.CloserPeers.Add(KadCodec.ToWire(InMemoryKadNetwork.RandomPeerId(), [], connected: false));
        }

        var peers = KadCodec.ReadPeers(KadCodec.Decode(KadCodec.EncodeFrame(m).AsSpan(3), 1 << 20).CloserPeers, out int dropped);
        Assert.Equal(KadCodec.MaxPeersPerReply, peers.Count);
        Assert.Equal(500, dropped);
    }

    [Fact]
    public void ReadPeers_InvalidIdsAndAddresses_AreDropped()
    {
        var m = new Message();
        var good = KadCodec.ToWire(InMemoryKadNetwork.RandomPeerId(), [Addressing.Multiaddr.Parse("/ip4/1.2.3.4/tcp/5")], connected: false);
        good.Addrs.Add(ByteString.CopyFrom(0xff, 0xff));
        m.CloserPeers.Add(good);
        m.CloserPeers.Add(new Message.Types.Peer { Id = ByteString.CopyFrom(1, 2, 3) });
        var peers = KadCodec.ReadPeers(m.CloserPeers, out int dropped);
        Assert.Single(peers);
        Assert.Single(peers[0].Addresses);
        Assert.Equal(1, dropped);
    }

    [Theory]
    [InlineData("1220" + "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", true)]
    [InlineData("01551220" + "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", true)]
    [InlineData("1e20" + "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", false)] // blake3 multihash: not a CID
    [InlineData("122000", false)]
    [InlineData("2f706f69702f7478", false)]
    public void IsProviderKey_AsJsCidDecode(string hex, bool expected) => Assert.Equal(expected, KadCodec.IsProviderKey(Convert.FromHexString(hex)));

    [FsCheck.Xunit.Property(MaxTest = 200)]
    public Property EncodeThenDecode_AnyMessage_RoundTrips(byte type, byte[] key, byte[] value, bool withRecord)
    {
        var m = new Message { Type = (Message.Types.MessageType)(type % 6), Key = ByteString.CopyFrom(key ?? []) };
        if (withRecord)
        {
            m.Record = new Record { Key = m.Key, Value = ByteString.CopyFrom(value ?? []), TimeReceived = "2026-01-01T00:00:00.000Z" };
        }

        byte[] frame = KadCodec.EncodeFrame(m);
        Core.Encoding.UnsignedVarint.TryRead(frame, out ulong length, out int prefix);
        return ((int)length == frame.Length - prefix && KadCodec.Decode(frame.AsSpan(prefix), 1 << 20).Equals(m)).ToProperty();
    }

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public Property Decode_RandomBytes_NeverThrowsAnythingButDecodeError(byte[] bytes)
    {
        try
        {
            KadCodec.Decode(bytes ?? [], 1 << 20);
        }
        catch (PoIPDecodeException)
        {
        }

        return true.ToProperty();
    }
}

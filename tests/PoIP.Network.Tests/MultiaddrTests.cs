using FsCheck;
using FsCheck.Fluent;
using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;

namespace PoIP.Network.Tests;

public sealed class MultiaddrTests
{
    private static readonly PeerId Peer = Ed25519KeyPair.FromSeed(new byte[32]).PeerId;

    [Theory]
    [InlineData("/ip4/127.0.0.1/tcp/4001")]
    [InlineData("/ip6/::1/tcp/0")]
    [InlineData("/ip6/2001:db8::1/tcp/65535")]
    [InlineData("/dns4/example.com/tcp/443")]
    [InlineData("/dns6/node-1.example.org/tcp/1")]
    public void Parse_ValidText_RoundTripsThroughTextAndBinary(string text)
    {
        var ma = Multiaddr.Parse(text);
        Assert.Equal(text, ma.ToString());
        var back = Multiaddr.FromBytes(ma.ToBytes());
        Assert.Equal(ma, back);
        Assert.Equal(text, back.ToString());
    }

    [Fact]
    public void Parse_P2pComponent_ExposesPeerIdAndKnownBinaryForm()
    {
        string text = $"/ip4/1.2.3.4/tcp/80/p2p/{Peer}";
        var ma = Multiaddr.Parse(text);
        Assert.Equal(Peer, ma.PeerId);
        byte[] bytes = ma.ToBytes();
        // 04 01020304 | 06 0050 | a503 26 <38-byte identity multihash>
        Assert.Equal(new byte[] { 0x04, 1, 2, 3, 4, 0x06, 0x00, 0x50, 0xa5, 0x03, 0x26 }, bytes[..11]);
        Assert.Equal(Peer.ToArray(), bytes[11..]);
        Assert.Equal(text, Multiaddr.FromBytes(bytes).ToString());
        Assert.Equal("/ip4/1.2.3.4/tcp/80", ma.WithoutPeerId().ToString());
        Assert.Equal(text, ma.WithoutPeerId().WithPeerId(Peer).ToString());
        Assert.Equal(ma, Multiaddr.Parse($"/ip4/1.2.3.4/tcp/80/ipfs/{Peer}"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("ip4/1.2.3.4")]
    [InlineData("/ip4/1.2.3")]
    [InlineData("/ip4/256.1.1.1/tcp/1")]
    [InlineData("/ip4/1.2.3.4/tcp/65536")]
    [InlineData("/ip4/1.2.3.4/tcp/-1")]
    [InlineData("/ip4/1.2.3.4/tcp")]
    [InlineData("/ip6/1.2.3.4/tcp/1")]
    [InlineData("/udp/1")]
    [InlineData("/dns4/bad name/tcp/1")]
    [InlineData("/p2p/notapeerid")]
    public void Parse_InvalidText_ThrowsDecodeException(string text)
    {
        Assert.Throws<PoIPDecodeException>(() => Multiaddr.Parse(text));
        Assert.False(Multiaddr.TryParse(text, out _));
    }

    [Fact]
    public void Parse_TooManyComponents_ThrowsOversize()
    {
        string text = string.Concat(Enumerable.Repeat("/tcp/1", Multiaddr.MaxComponents + 1));
        var ex = Assert.Throws<PoIPDecodeException>(() => Multiaddr.Parse(text));
        Assert.Equal(DecodeErrorKind.Oversize, ex.Kind);
    }

    [Theory]
    [InlineData(new byte[] { 0x04, 1, 2, 3 })] // truncated ip4
    [InlineData(new byte[] { 0x06, 0 })] // truncated tcp
    [InlineData(new byte[] { 0x36, 0x05, (byte)'a' })] // dns length past end
    [InlineData(new byte[] { 0x91, 0x02, 0 })] // unsupported code 273 (udp)
    [InlineData(new byte[] { 0x80 })] // truncated varint
    [InlineData(new byte[] { 0xa5, 0x03, 0x02, 0x99, 0x00 })] // p2p not a multihash
    [InlineData(new byte[] { 0x84, 0x00, 1, 2, 3, 4 })] // non-minimal varint
    public void FromBytes_Invalid_ThrowsDecodeException(byte[] bytes)
    {
        Assert.Throws<PoIPDecodeException>(() => Multiaddr.FromBytes(bytes));
    }

    [Fact]
    public void FromBytes_Oversize_ThrowsOversize()
    {
        var ex = Assert.Throws<PoIPDecodeException>(() => Multiaddr.FromBytes(new byte[Multiaddr.MaxBinaryLength + 1]));
        Assert.Equal(DecodeErrorKind.Oversize, ex.Kind);
    }

    [FsCheck.Xunit.Property(MaxTest = 200)]
    public Property Ip4Tcp_AnyAddressAndPort_RoundTrips(byte a, byte b, byte c, byte d, ushort port)
    {
        var text = $"/ip4/{a}.{b}.{c}.{d}/tcp/{port}";
        var ma = Multiaddr.Parse(text);
        return (ma.ToString() == text && Multiaddr.FromBytes(ma.ToBytes()).Equals(ma)).ToProperty();
    }
}

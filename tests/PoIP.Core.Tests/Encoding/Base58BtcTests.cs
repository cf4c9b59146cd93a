using FsCheck.Xunit;
using PoIP.Core.Encoding;

namespace PoIP.Core.Tests.Encoding;

public sealed class Base58BtcTests
{
    [Property(MaxTest = 1000)]
    public bool EncodeThenDecode_AnyBytes_RoundTrips(byte[] data) =>
        Base58Btc.TryDecode(Base58Btc.Encode(data), out var decoded, maxLength: 10_000) && decoded.AsSpan().SequenceEqual(data);

    [Theory]
    [InlineData("Hello World!", "2NEpo7TZRRrLZSi2U")]
    [InlineData("The quick brown fox jumps over the lazy dog.", "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z")]
    public void Encode_KnownVectors_Match(string text, string expected) =>
        Assert.Equal(expected, Base58Btc.Encode(System.Text.Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void Encode_LeadingZeros_BecomeOnes() => Assert.Equal("111", Base58Btc.Encode([0, 0, 0]));

    [Theory]
    [InlineData("0OIl")]
    [InlineData("abc!")]
    [InlineData("é")]
    public void TryDecode_OutsideAlphabet_Fails(string text) => Assert.False(Base58Btc.TryDecode(text, out _));

    [Fact]
    public void TryDecode_OverLimit_Fails() => Assert.False(Base58Btc.TryDecode(new string('2', 300), out _, maxLength: 256));
}

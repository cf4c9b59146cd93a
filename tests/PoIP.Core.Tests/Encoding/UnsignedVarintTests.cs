using FsCheck.Xunit;
using PoIP.Core.Encoding;

namespace PoIP.Core.Tests.Encoding;

public sealed class UnsignedVarintTests
{
    [Property(MaxTest = 2000)]
    public bool WriteThenRead_AnyValue_RoundTrips(ulong raw)
    {
        ulong value = raw & UnsignedVarint.MaxValue;
        Span<byte> buffer = stackalloc byte[UnsignedVarint.MaxLength];
        int written = UnsignedVarint.Write(buffer, value);
        return UnsignedVarint.TryRead(buffer[..written], out ulong read, out int consumed) == UnsignedVarint.ReadStatus.Ok
            && read == value && consumed == written && written == UnsignedVarint.GetLength(value);
    }

    [Theory]
    [InlineData(new byte[] { 0x01 }, 1UL)]
    [InlineData(new byte[] { 0x7f }, 127UL)]
    [InlineData(new byte[] { 0x80, 0x01 }, 128UL)]
    [InlineData(new byte[] { 0xff, 0x01 }, 255UL)]
    [InlineData(new byte[] { 0xac, 0x02 }, 300UL)]
    [InlineData(new byte[] { 0x80, 0x80, 0x01 }, 16384UL)]
    public void TryRead_SpecExamples_Decode(byte[] bytes, ulong expected)
    {
        Assert.Equal(UnsignedVarint.ReadStatus.Ok, UnsignedVarint.TryRead(bytes, out ulong value, out int read));
        Assert.Equal(expected, value);
        Assert.Equal(bytes.Length, read);
    }

    [Fact]
    public void TryRead_NonMinimal_Invalid() =>
        Assert.Equal(UnsignedVarint.ReadStatus.Invalid, UnsignedVarint.TryRead([0x81, 0x00], out _, out _));

    [Fact]
    public void TryRead_TenBytes_Invalid() =>
        Assert.Equal(UnsignedVarint.ReadStatus.Invalid, UnsignedVarint.TryRead([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], out _, out _));

    [Fact]
    public void TryRead_Incomplete_NeedsMoreData() =>
        Assert.Equal(UnsignedVarint.ReadStatus.NeedMoreData, UnsignedVarint.TryRead([0x80, 0x80], out _, out _));

    [Fact]
    public void GetLength_Over63Bits_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => UnsignedVarint.GetLength(ulong.MaxValue));
}

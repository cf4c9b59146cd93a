using FsCheck.Xunit;
using PoIP.Core.Errors;
using PoIP.Network.InferProtocol;
using PoIP.Network.Protocols;

namespace PoIP.Network.Tests.InferProtocol;

public sealed class LengthPrefixedFramesTests
{
    [Property(MaxTest = 300)]
    public bool WriteThenRead_AnyPayloads_RoundTrip(byte[][] payloads)
    {
        using var stream = new MemoryStream();
        foreach (var p in payloads)
        {
            LengthPrefixedFrames.WriteAsync(stream, p).AsTask().GetAwaiter().GetResult();
        }

        stream.Position = 0;
        foreach (var p in payloads)
        {
            byte[]? read = LengthPrefixedFrames.ReadAsync(stream, 1 << 20).AsTask().GetAwaiter().GetResult();
            if (read is null || !read.AsSpan().SequenceEqual(p))
            {
                return false;
            }
        }

        return LengthPrefixedFrames.ReadAsync(stream, 1 << 20).AsTask().GetAwaiter().GetResult() is null;
    }

    [Fact]
    public async Task Read_OversizePrefix_TypedErrorBeforeReadingPayload()
    {
        using var stream = new MemoryStream([0x80, 0x80, 0x40]); // 1 MiB announced, no payload
        var error = await Assert.ThrowsAsync<PoIPDecodeException>(() => LengthPrefixedFrames.ReadAsync(stream, 1024).AsTask());
        Assert.Equal(DecodeErrorKind.Oversize, error.Kind);
    }

    [Fact]
    public async Task Read_EndsMidFrame_Truncated()
    {
        using var stream = new MemoryStream([5, 1, 2]);
        var error = await Assert.ThrowsAsync<PoIPDecodeException>(() => LengthPrefixedFrames.ReadAsync(stream, 1024).AsTask());
        Assert.Equal(DecodeErrorKind.Truncated, error.Kind);
    }

    [Fact]
    public async Task Read_EndlessVarint_Malformed()
    {
        using var stream = new MemoryStream(Enumerable.Repeat((byte)0xFF, 20).ToArray());
        var error = await Assert.ThrowsAsync<PoIPDecodeException>(() => LengthPrefixedFrames.ReadAsync(stream, 1024).AsTask());
        Assert.Equal(DecodeErrorKind.Malformed, error.Kind);
    }
}

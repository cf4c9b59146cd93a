using FsCheck;
using FsCheck.Fluent;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Network.AuditProtocol;
using PoIP.Network.Protocols;

namespace PoIP.Network.Tests.AuditProtocol;

public sealed class TranscriptWireTests
{
    private static readonly ReceiptId Receipt = new(Sha256Digest.Compute("receipt"u8));

    [FsCheck.Xunit.Property(MaxTest = 100)]
    public Property FetchAsync_AnyTranscript_ServerReadsTheIdAndValidatorReadsItBack(byte[] prompt, int[] tokens)
    {
        prompt ??= [];
        tokens ??= [];
        var sent = new AuditSubmission(AuditWire.Version, new byte[] { 1, 2 }, prompt, new byte[] { 3 }, tokens);
        var (asked, got) = ExchangeAsync(sent).GetAwaiter().GetResult();
        return (asked == Receipt
            && got is not null
            && got.Prompt.Span.SequenceEqual(prompt)
            && got.OutputTokens.SequenceEqual(tokens)
            && got.RequestEnvelope.Span.SequenceEqual(new byte[] { 1, 2 })
            && got.ReceiptEnvelope.Span.SequenceEqual(new byte[] { 3 })).ToProperty();
    }

    [Fact]
    public async Task FetchAsync_NotHeld_ReturnsNull()
    {
        var (asked, got) = await ExchangeAsync(null);

        Assert.Equal(Receipt, asked);
        Assert.Null(got);
    }

    [Fact]
    public async Task FetchAsync_ReplyLargerThanTheLimit_ThrowsBeforeBuffering()
    {
        var big = new AuditSubmission(AuditWire.Version, new byte[] { 1 }, new byte[4096], new byte[] { 3 }, []);

        var ex = await Assert.ThrowsAsync<PoIPDecodeException>(() => ExchangeAsync(big, maxLength: 1024));

        Assert.Equal(DecodeErrorKind.Oversize, ex.Kind);
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 0xFF, 0xFF })]          // malformed protobuf
    [InlineData(new byte[] { 0x08, 0x02, 0x12, 0x01, 0x00 })] // version 2
    [InlineData(new byte[] { 0x08, 0x01, 0x12, 0x01, 0x00 })] // a 1-byte id
    public async Task ReadRequestAsync_BadFrame_ThrowsDecodeException(byte[] frame)
    {
        using var stream = new MemoryStream();
        await LengthPrefixedFrames.WriteAsync(stream, frame);
        stream.Position = 0;

        await Assert.ThrowsAsync<PoIPDecodeException>(() => TranscriptWire.ReadRequestAsync(stream));
    }

    [Fact]
    public async Task ReadRequestAsync_OversizeFrame_ThrowsDecodeException()
    {
        using var stream = new MemoryStream();
        await LengthPrefixedFrames.WriteAsync(stream, new byte[TranscriptWire.MaxRequestLength + 1]);
        stream.Position = 0;

        await Assert.ThrowsAsync<PoIPDecodeException>(() => TranscriptWire.ReadRequestAsync(stream));
    }

    [Fact]
    public async Task FetchAsync_FoundReplyWithoutTranscript_ThrowsDecodeException()
    {
        using var reply = new MemoryStream();
        await LengthPrefixedFrames.WriteAsync(reply, new byte[] { 0x08, 0x01, 0x10, 0x01 }); // version 1, found, no transcript
        reply.Position = 0;
        using var toServer = new MemoryStream();
        await using var duplex = new AuditWireTests.DuplexStream(reply, toServer);

        await Assert.ThrowsAsync<PoIPDecodeException>(() => TranscriptWire.FetchAsync(duplex, Receipt, 1024));
    }

    /// <summary>The server writes its reply first (one-way streams), the validator fetches, the server then reads the request.</summary>
    private static async Task<(ReceiptId? Asked, AuditSubmission? Got)> ExchangeAsync(AuditSubmission? served, int maxLength = 1 << 20)
    {
        using var reply = new MemoryStream();
        await TranscriptWire.WriteReplyAsync(reply, served);
        reply.Position = 0;
        using var toServer = new MemoryStream();
        await using var duplex = new AuditWireTests.DuplexStream(reply, toServer);
        var got = await TranscriptWire.FetchAsync(duplex, Receipt, maxLength);
        toServer.Position = 0;
        var asked = await TranscriptWire.ReadRequestAsync(toServer);
        return (asked, got);
    }
}

using PoIP.Core.Errors;
using PoIP.Network.AuditProtocol;
using PoIP.Network.Protocols;

namespace PoIP.Network.Tests.AuditProtocol;

public sealed class AuditWireTests
{
    [Fact]
    public async Task ReadSubmissionAsync_GarbageFrame_ThrowsDecodeException()
    {
        using var stream = new MemoryStream();
        await LengthPrefixedFrames.WriteAsync(stream, new byte[] { 0x0A, 0xFF, 0xFF });
        stream.Position = 0;

        var ex = await Assert.ThrowsAsync<PoIPDecodeException>(() => AuditWire.ReadSubmissionAsync(stream, 1024));

        Assert.Equal(DecodeErrorKind.Malformed, ex.Kind);
    }

    [Fact]
    public async Task ReadSubmissionAsync_ClosedStream_ReturnsNull()
    {
        using var stream = new MemoryStream();

        Assert.Null(await AuditWire.ReadSubmissionAsync(stream, 1024));
    }

    [Fact]
    public async Task WriteReplyAsync_LongDetail_IsCutAndReadBack()
    {
        // The client side reads what the validator side wrote: a duplex pair of one-way streams.
        using var toValidator = new MemoryStream();
        using var reply = new MemoryStream();
        await AuditWire.WriteReplyAsync(reply, new AuditReply(true, new byte[] { 1, 2 }, new byte[] { 3 }, new string('x', 2000)));
        reply.Position = 0;
        await using var duplex = new DuplexStream(reply, toValidator);

        var read = await AuditWire.SubmitAsync(duplex, new byte[] { 9 }, new byte[] { 8 }, new byte[] { 7 }, [5, 6]);

        Assert.True(read.Selected);
        Assert.Equal(new byte[] { 1, 2 }, read.SelectionSignature.ToArray());
        Assert.Equal(new byte[] { 3 }, read.VerdictEnvelope.ToArray());
        Assert.Equal(AuditWire.MaxDetailLength, read.Detail.Length);
        toValidator.Position = 0;
        var submission = await AuditWire.ReadSubmissionAsync(toValidator, 1024);
        Assert.NotNull(submission);
        Assert.Equal(AuditWire.Version, submission.Version);
        Assert.Equal(new byte[] { 9 }, submission.RequestEnvelope.ToArray());
        Assert.Equal(new byte[] { 8 }, submission.Prompt.ToArray());
        Assert.Equal(new byte[] { 7 }, submission.ReceiptEnvelope.ToArray());
        Assert.Equal([5, 6], submission.OutputTokens);
    }

    /// <summary>Reads from one stream, writes to another.</summary>
    internal sealed class DuplexStream(Stream read, Stream write) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => write.Flush();

        public override int Read(byte[] buffer, int offset, int count) => read.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => read.ReadAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => write.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => write.WriteAsync(buffer, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

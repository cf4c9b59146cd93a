using System.Buffers;
using System.Buffers.Binary;

namespace PoIP.Network.Protocols;

/// <summary>Result of one <c>/perf/1.0.0</c> run measured by the client.</summary>
/// <param name="UploadBytes">Bytes sent.</param>
/// <param name="DownloadBytes">Bytes received.</param>
/// <param name="UploadTime">From stream open until the upload was written and half-closed.</param>
/// <param name="TotalTime">From stream open until the download ended.</param>
public sealed record PerfResult(long UploadBytes, long DownloadBytes, TimeSpan UploadTime, TimeSpan TotalTime);

/// <summary><c>/perf/1.0.0</c> (shared/specs/libp2p/perf.md): client uploads, server sends back the requested bytes.</summary>
internal static class PerfProtocol
{
    public const string ProtocolId = "/perf/1.0.0";
    private const int ChunkSize = 256 * 1024;

    public static async Task ServeAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        var header = new byte[8];
        try
        {
            await stream.ReadExactlyAsync(header, cancellationToken).ConfigureAwait(false);
        }
        catch (EndOfStreamException ex)
        {
            throw new Libp2pException(Libp2pErrorCodes.Closed, "perf: stream ended before the size", ex);
        }

        ulong toSend = BinaryPrimitives.ReadUInt64BigEndian(header);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            while (await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
            {
            }

            Array.Clear(buffer);
            while (toSend > 0)
            {
                int n = (int)Math.Min((ulong)ChunkSize, toSend);
                await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                toSend -= (ulong)n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        await stream.CompleteWritingAsync().ConfigureAwait(false);
    }

    public static async Task<PerfResult> RunAsync(Libp2pStream stream, long uploadBytes, long downloadBytes, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(uploadBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(downloadBytes);
        long start = time.GetTimestamp();
        var header = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(header, (ulong)downloadBytes);
        await stream.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        long received = 0;
        TimeSpan uploadTime;
        try
        {
            Array.Clear(buffer);
            long left = uploadBytes;
            while (left > 0)
            {
                int n = (int)Math.Min(ChunkSize, left);
                await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                left -= n;
            }

            await stream.CompleteWritingAsync().ConfigureAwait(false);
            uploadTime = time.GetElapsedTime(start);
            int r;
            while ((r = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                received += r;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var total = time.GetElapsedTime(start);
        if (received != downloadBytes)
        {
            throw Internal.Errors.Protocol($"perf: expected {downloadBytes} bytes, got {received}");
        }

        return new PerfResult(uploadBytes, received, uploadTime, total);
    }
}

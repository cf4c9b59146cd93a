using System.Diagnostics;
using System.Security.Cryptography;

namespace PoIP.Network.Protocols;

/// <summary><c>/ipfs/ping/1.0.0</c>: 32 random bytes echoed back.</summary>
internal static class PingProtocol
{
    public const string ProtocolId = "/ipfs/ping/1.0.0";
    public const int PayloadLength = 32;

    public static async Task ServeAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[PayloadLength];
        while (true)
        {
            int read = 0;
            while (read < PayloadLength)
            {
                int n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    await stream.CompleteWritingAsync().ConfigureAwait(false);
                    return;
                }

                read += n;
            }

            await stream.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One ping on an open stream; returns the round-trip time.</summary>
    /// <exception cref="Libp2pException">The echo differed or the stream ended.</exception>
    public static async Task<TimeSpan> PingOnceAsync(Libp2pStream stream, TimeProvider time, CancellationToken cancellationToken)
    {
        var payload = RandomNumberGenerator.GetBytes(PayloadLength);
        var echo = new byte[PayloadLength];
        long start = time.GetTimestamp();
        await stream.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
        try
        {
            await stream.ReadExactlyAsync(echo, cancellationToken).ConfigureAwait(false);
        }
        catch (EndOfStreamException ex)
        {
            throw new Libp2pException(Libp2pErrorCodes.Closed, "ping: stream ended", ex);
        }

        var rtt = time.GetElapsedTime(start);
        if (!payload.AsSpan().SequenceEqual(echo))
        {
            throw Internal.Errors.Protocol("ping: echo differs");
        }

        Debug.Assert(rtt >= TimeSpan.Zero);
        return rtt;
    }
}

using PoIP.Core.Encoding;

namespace PoIP.Network.Protocols;

/// <summary>Unsigned-varint length-prefixed messages on a stream, with a size limit.</summary>
internal static class LengthPrefixed
{
    public static async Task WriteAsync(Stream stream, ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        var buffer = new byte[UnsignedVarint.MaxLength + message.Length];
        int prefix = UnsignedVarint.Write(buffer, (ulong)message.Length);
        message.Span.CopyTo(buffer.AsSpan(prefix));
        await stream.WriteAsync(buffer.AsMemory(0, prefix + message.Length), cancellationToken).ConfigureAwait(false);
    }

    /// <exception cref="Libp2pException">Too large, malformed or the stream ended.</exception>
    public static async Task<byte[]> ReadAsync(Stream stream, int maxLength, CancellationToken cancellationToken)
    {
        var prefix = new byte[UnsignedVarint.MaxLength];
        int n = 0;
        ulong length;
        try
        {
            while (true)
            {
                await stream.ReadExactlyAsync(prefix.AsMemory(n, 1), cancellationToken).ConfigureAwait(false);
                n++;
                var status = UnsignedVarint.TryRead(prefix.AsSpan(0, n), out length, out _);
                if (status == UnsignedVarint.ReadStatus.Ok)
                {
                    break;
                }

                if (status == UnsignedVarint.ReadStatus.Invalid || n >= 5)
                {
                    throw Internal.Errors.Protocol("bad length prefix");
                }
            }

            if (length > (ulong)maxLength)
            {
                throw Internal.Errors.Limit($"message of {length} bytes exceeds {maxLength}");
            }

            var message = new byte[(int)length];
            await stream.ReadExactlyAsync(message, cancellationToken).ConfigureAwait(false);
            return message;
        }
        catch (EndOfStreamException ex)
        {
            throw new Libp2pException(Libp2pErrorCodes.Closed, "stream ended inside a message", ex);
        }
    }
}

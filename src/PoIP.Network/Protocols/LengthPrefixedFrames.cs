using PoIP.Core.Encoding;
using PoIP.Core.Errors;

namespace PoIP.Network.Protocols;

/// <summary>
/// Reads and writes unsigned-varint length-prefixed frames on a stream: the framing of identify and
/// of every PoIP stream protocol. Every read names a size limit; an oversize or malformed prefix is a
/// typed error before any payload byte is buffered.
/// </summary>
public static class LengthPrefixedFrames
{
    /// <summary>Writes one frame.</summary>
    public static async ValueTask WriteAsync(Stream stream, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        // One write: on an encrypted stream prefix and payload then travel in one frame.
        byte[] buffer = new byte[UnsignedVarint.MaxLength + payload.Length];
        int prefix = UnsignedVarint.Write(buffer, (ulong)payload.Length);
        payload.Span.CopyTo(buffer.AsSpan(prefix));
        await stream.WriteAsync(buffer.AsMemory(0, prefix + payload.Length), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads one frame of at most <paramref name="maxLength"/> bytes; null at a clean end of stream.</summary>
    /// <exception cref="PoIPDecodeException">Oversize, malformed prefix or a stream that ends mid-frame.</exception>
    public static async ValueTask<byte[]?> ReadAsync(Stream stream, int maxLength, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        const string name = "length-prefixed frame";
        byte[] prefix = new byte[UnsignedVarint.MaxLength];
        int used = 0;
        ulong length;
        while (true)
        {
            int read = await stream.ReadAsync(prefix.AsMemory(used, 1), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return used == 0 ? null : throw new PoIPDecodeException(name, DecodeErrorKind.Truncated, "stream ended inside a length prefix.");
            }

            used++;
            var status = UnsignedVarint.TryRead(prefix.AsSpan(0, used), out length, out _);
            if (status == UnsignedVarint.ReadStatus.Ok)
            {
                break;
            }

            if (status == UnsignedVarint.ReadStatus.Invalid)
            {
                throw new PoIPDecodeException(name, DecodeErrorKind.Malformed, "invalid varint length prefix.");
            }
        }

        if (length > (ulong)maxLength)
        {
            throw new PoIPDecodeException(name, DecodeErrorKind.Oversize, $"{length} bytes exceeds the {maxLength}-byte limit.");
        }

        byte[] payload = new byte[(int)length];
        try
        {
            await stream.ReadExactlyAsync(payload, cancellationToken).ConfigureAwait(false);
        }
        catch (EndOfStreamException ex)
        {
            throw new PoIPDecodeException(name, DecodeErrorKind.Truncated, "stream ended inside a frame.", ex);
        }

        return payload;
    }
}

using System.Buffers;
using System.Text;
using PoIP.Core.Encoding;

namespace PoIP.Network.Multistream;

/// <summary>
/// multistream-select 1.0 (<c>/multistream/1.0.0</c>): varint-length-prefixed, newline-terminated
/// UTF-8 lines. Reads exactly the bytes of each message, so whatever follows the negotiation stays
/// in the stream for the selected protocol. Messages are limited to <see cref="MaxMessageLength"/>.
/// </summary>
internal static class MultistreamSelect
{
    public const string Header = "/multistream/1.0.0";
    public const string NotAvailable = "na";
    public const int MaxMessageLength = 1024;
    public const int MaxProtocolLength = MaxMessageLength - 1;
    public const int MaxAttempts = 32;

    /// <summary>Initiator with one protocol: writes header and proposal together, then expects the echo.</summary>
    /// <exception cref="Libp2pException">The peer answered <c>na</c> (<c>p2p.unsupported</c>) or broke the protocol.</exception>
    public static async Task SelectAsync(Stream stream, string protocol, CancellationToken cancellationToken)
    {
        ValidateProtocol(protocol);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(2 * (MaxMessageLength + 3));
        try
        {
            int length = Encode(buffer, Header);
            length += Encode(buffer.AsSpan(length), protocol);
            await stream.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        string header = await ReadMessageAsync(stream, cancellationToken).ConfigureAwait(false);
        if (header != Header)
        {
            throw Internal.Errors.Protocol($"multistream: expected header, got '{Shorten(header)}'");
        }

        string answer = await ReadMessageAsync(stream, cancellationToken).ConfigureAwait(false);
        if (answer == protocol)
        {
            return;
        }

        if (answer == NotAvailable)
        {
            throw new Libp2pException(Libp2pErrorCodes.ProtocolNotSupported, $"peer does not support {protocol}");
        }

        throw Internal.Errors.Protocol($"multistream: unexpected answer '{Shorten(answer)}'");
    }

    /// <summary>Listener: answers proposals with <c>na</c> until one is supported, then echoes it.</summary>
    /// <returns>The chosen protocol.</returns>
    public static async Task<string> ListenAsync(Stream stream, Func<string, bool> isSupported, CancellationToken cancellationToken)
    {
        await WriteMessageAsync(stream, Header, cancellationToken).ConfigureAwait(false);
        string header = await ReadMessageAsync(stream, cancellationToken).ConfigureAwait(false);
        if (header != Header)
        {
            throw Internal.Errors.Protocol($"multistream: expected header, got '{Shorten(header)}'");
        }

        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            string proposal = await ReadMessageAsync(stream, cancellationToken).ConfigureAwait(false);
            if (proposal != "ls" && proposal.Length > 0 && isSupported(proposal))
            {
                await WriteMessageAsync(stream, proposal, cancellationToken).ConfigureAwait(false);
                return proposal;
            }

            await WriteMessageAsync(stream, NotAvailable, cancellationToken).ConfigureAwait(false);
        }

        throw Internal.Errors.Limit($"multistream: more than {MaxAttempts} proposals");
    }

    public static async Task WriteMessageAsync(Stream stream, string message, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxMessageLength + 3);
        try
        {
            int length = Encode(buffer, message);
            await stream.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads one message (without its newline), reading no byte past it.</summary>
    public static async Task<string> ReadMessageAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxMessageLength);
        try
        {
            int prefix = 0;
            ulong length;
            while (true)
            {
                await stream.ReadExactlyAsync(buffer.AsMemory(prefix, 1), cancellationToken).ConfigureAwait(false);
                prefix++;
                var status = UnsignedVarint.TryRead(buffer.AsSpan(0, prefix), out length, out _);
                if (status == UnsignedVarint.ReadStatus.Ok)
                {
                    break;
                }

                if (status == UnsignedVarint.ReadStatus.Invalid || prefix >= 3)
                {
                    throw Internal.Errors.Protocol("multistream: bad length prefix");
                }
            }

            if (length is 0 or > MaxMessageLength)
            {
                throw Internal.Errors.Limit($"multistream: message of {length} bytes (limit {MaxMessageLength})");
            }

            await stream.ReadExactlyAsync(buffer.AsMemory(0, (int)length), cancellationToken).ConfigureAwait(false);
            return Decode(buffer.AsSpan(0, (int)length));
        }
        catch (EndOfStreamException ex)
        {
            throw new Libp2pException(Libp2pErrorCodes.Closed, "multistream: stream ended during negotiation", ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Decodes one message body (including its trailing newline).</summary>
    public static string Decode(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty || body[^1] != (byte)'\n')
        {
            throw Internal.Errors.Protocol("multistream: message does not end with a newline");
        }

        try
        {
            return Internal.ProtoReader.Strict.GetString(body[..^1]);
        }
        catch (DecoderFallbackException)
        {
            throw Internal.Errors.Protocol("multistream: message is not UTF-8");
        }
    }

    /// <summary>Writes varint length + message + newline; returns the bytes written.</summary>
    public static int Encode(Span<byte> destination, string message)
    {
        int bodyLength = Encoding.UTF8.GetByteCount(message) + 1;
        int prefix = UnsignedVarint.Write(destination, (ulong)bodyLength);
        int written = Encoding.UTF8.GetBytes(message, destination[prefix..]);
        destination[prefix + written] = (byte)'\n';
        return prefix + bodyLength;
    }

    public static void ValidateProtocol(string protocol)
    {
        ArgumentException.ThrowIfNullOrEmpty(protocol);
        if (Encoding.UTF8.GetByteCount(protocol) > MaxProtocolLength || protocol.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Protocol ids are at most {MaxProtocolLength} bytes without newlines.", nameof(protocol));
        }
    }

    private static string Shorten(string s) => s.Length <= 64 ? s : s[..64] + "...";
}

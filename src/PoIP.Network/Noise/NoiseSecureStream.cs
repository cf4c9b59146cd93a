using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace PoIP.Network.Noise;

/// <summary>
/// The Noise transport phase over an inner byte stream: frames are a 2-byte big-endian length and
/// up to 65535 bytes of ciphertext (65519 of plaintext). Reads are buffered (several frames per
/// socket read) and decrypt straight into the caller's buffer when it is big enough; writes pack
/// frames into one buffer and hit the socket once per <see cref="FlushAsync(CancellationToken)"/>.
/// Buffers are rented once per connection; steady-state reading and writing allocate nothing.
/// Writers must be serialised by the caller (one writer at a time); one reader at a time.
/// </summary>
internal sealed class NoiseSecureStream : Stream, Internal.IFrameTransport
{
    public const int MaxFrameLength = 65535;
    public const int MaxPlaintext = MaxFrameLength - NoiseCipher.TagLength;

    /// <summary>
    /// Plaintext bytes that fit one socket write: the Yamux writer hands over at most this much data per
    /// call, so a 256 KiB application write is one <c>send</c> (before: two full frames per send, and a
    /// 68-byte remainder in a send of its own).
    /// </summary>
    public const int WriteBatch = 256 * 1024;

    /// <summary>Payloads at least this long get Noise frames of their own (see <see cref="WriteAsync(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, bool, CancellationToken)"/>).</summary>
    public const int SeparateHeaderThreshold = 1024;

    // Reads: up to four full frames per socket read. Writes: one batch of frames (the 16-byte tags, the
    // 2-byte lengths and the bulk frames' 30-byte header frames) plus queued control frames. Both start
    // smaller (two frames to read, one frame and control frames to write) and grow to these sizes the
    // first time bulk data needs it, so connections that only exchange small messages keep 267 KiB (587 KiB once grown).
    private const int ReadBufferSize = 4 * (MaxFrameLength + 2);
    private const int InitialReadBufferSize = 2 * (MaxFrameLength + 2);
    private const int WriteBufferSize = WriteBatch + 8 * 1024;
    private const int InitialWriteBufferSize = 72 * 1024;
    private const int FrameOverhead = 2 + NoiseCipher.TagLength;
    private const int StagingSize = SeparateHeaderThreshold + 2048;

    private readonly Stream _inner;
    private readonly NoiseCipher _send;
    private readonly NoiseCipher _receive;
    private byte[] _readBuffer;
    private int _readStart;
    private int _readEnd;
    private readonly byte[] _plain;
    private int _plainStart;
    private int _plainEnd;
    private byte[] _writeBuffer;
    private int _writeLength;
    private readonly byte[] _staging;
    private int _disposed;

    public NoiseSecureStream(Stream inner, NoiseCipher send, NoiseCipher receive)
    {
        _inner = inner;
        _send = send;
        _receive = receive;
        // Per-connection buffers (267 KiB, 587 KiB once grown), left to the GC on dispose: a
        // reader or writer racing with disposal may still touch them, so they never go back to a pool.
        _readBuffer = GC.AllocateUninitializedArray<byte>(InitialReadBufferSize);
        _plain = GC.AllocateUninitializedArray<byte>(MaxPlaintext);
        _writeBuffer = GC.AllocateUninitializedArray<byte>(InitialWriteBufferSize);
        _staging = GC.AllocateUninitializedArray<byte>(StagingSize);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Bytes of buffers this connection holds (tests: small until bulk data flows).</summary>
    public int BufferBytes => _readBuffer.Length + _plain.Length + _writeBuffer.Length + _staging.Length;

    /// <summary>Total plaintext bytes read and written (for metrics).</summary>
    public long BytesRead { get; private set; }

    public long BytesWritten { get; private set; }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            int n = ReadOneBuffered(buffer.Span);
            if (n > 0)
            {
                return n;
            }

            if (n < 0 && !await FillFrameAsync(cancellationToken).ConfigureAwait(false))
            {
                return 0; // clean end of stream between frames
            }

            // n == 0: an empty frame, skipped
        }
    }

    /// <summary>
    /// Takes bytes without waiting: from the rest of a frame decrypted earlier, or else from the next
    /// frame if it is wholly buffered (decrypted straight into <paramref name="destination"/> when it fits).
    /// Returns the bytes copied (0 for an empty frame), or -1 when no whole frame is buffered.
    /// </summary>
    private int ReadOneBuffered(Span<byte> destination)
    {
        if (_plainEnd > _plainStart)
        {
            return CopyPlain(destination);
        }

        if (_readEnd - _readStart < 2)
        {
            return -1;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(_readBuffer.AsSpan(_readStart));
        if (length < NoiseCipher.TagLength)
        {
            throw Internal.Errors.Protocol("noise: frame shorter than its tag");
        }

        if (_readEnd - _readStart < 2 + length)
        {
            return -1;
        }

        var cipher = _readBuffer.AsSpan(_readStart + 2, length);
        _readStart += 2 + length;
        int plainLength = length - NoiseCipher.TagLength;
        BytesRead += plainLength;
        if (plainLength <= destination.Length)
        {
            _receive.Decrypt(cipher, destination, default);
            return plainLength;
        }

        _receive.Decrypt(cipher, _plain, default);
        _plainStart = 0;
        _plainEnd = plainLength;
        return CopyPlain(destination);
    }

    /// <summary>True when the next <paramref name="count"/> plaintext bytes are in whole frames already received (nothing is decrypted).</summary>
    public bool HasBuffered(int count)
    {
        int available = _plainEnd - _plainStart;
        int position = _readStart;
        while (available < count)
        {
            if (_readEnd - position < 2)
            {
                return false;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(_readBuffer.AsSpan(position));
            if (length < NoiseCipher.TagLength || _readEnd - position < 2 + length)
            {
                return false; // a bad length is left for the read to report
            }

            available += length - NoiseCipher.TagLength;
            position += 2 + length;
        }

        return true;
    }

    /// <summary>Reads exactly <c>destination.Length</c> bytes from whole buffered frames (after <see cref="HasBuffered"/>).</summary>
    /// <exception cref="InvalidOperationException">Not enough was buffered.</exception>
    public void ReadBuffered(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int n = ReadOneBuffered(destination);
            if (n < 0)
            {
                throw new InvalidOperationException("noise: fewer bytes buffered than asked for");
            }

            destination = destination[n..];
        }
    }

    private int CopyPlain(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, _plainEnd - _plainStart);
        _plain.AsSpan(_plainStart, n).CopyTo(destination);
        _plainStart += n;
        return n;
    }

    /// <summary>Buffers the next whole frame; false on end of stream with nothing buffered.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FillFrameAsync(CancellationToken cancellationToken)
    {
        if (!await FillAsync(2, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(_readBuffer.AsSpan(_readStart));
        if (length < NoiseCipher.TagLength)
        {
            throw Internal.Errors.Protocol("noise: frame shorter than its tag");
        }

        if (!await FillAsync(2 + length, cancellationToken).ConfigureAwait(false))
        {
            throw Internal.Errors.Closed("noise: connection closed inside a frame");
        }

        return true;
    }

    /// <summary>Ensures <paramref name="count"/> bytes are buffered; false on end of stream with none buffered.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        while (_readEnd - _readStart < count)
        {
            if (_readStart == _readEnd)
            {
                _readStart = _readEnd = 0; // empty: the whole buffer is free for this read
            }
            else if (_readBuffer.Length - _readStart < count)
            {
                Buffer.BlockCopy(_readBuffer, _readStart, _readBuffer, 0, _readEnd - _readStart);
                _readEnd -= _readStart;
                _readStart = 0;
            }

            int n = await _inner.ReadAsync(_readBuffer.AsMemory(_readEnd), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                if (_readEnd == _readStart)
                {
                    return false;
                }

                throw Internal.Errors.Closed("noise: connection closed inside a frame");
            }

            _readEnd += n;
            if (_readEnd == _readBuffer.Length && _readBuffer.Length < ReadBufferSize)
            {
                GrowReadBuffer(); // the read filled all the room there was: bulk data is flowing
            }
        }

        return true;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        WriteAsync(ReadOnlyMemory<byte>.Empty, buffer, flush: true, cancellationToken);

    /// <summary>
    /// Encrypts <paramref name="header"/> followed by <paramref name="payload"/> into frames, flushing to
    /// the socket when the buffer cannot take the next frame and, if <paramref name="flush"/>, at the end.
    /// A small payload shares the header's frame (one copy into a staging buffer, one AEAD call); a bulk
    /// payload (at least <see cref="SeparateHeaderThreshold"/> bytes) gets its own frames, encrypted
    /// straight from <paramref name="payload"/>, so neither side copies it: the receiver reads the header
    /// frame, then decrypts the payload frame directly into its destination. That costs one extra 30-byte
    /// frame (0.05% of a 64 KiB payload) and one small AEAD call.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> payload, bool flush, CancellationToken cancellationToken)
    {
        if (!header.IsEmpty && (payload.Length >= SeparateHeaderThreshold || header.Length + payload.Length > StagingSize))
        {
            await WriteFramesAsync(header, cancellationToken).ConfigureAwait(false);
            header = ReadOnlyMemory<byte>.Empty;
        }

        if (header.IsEmpty)
        {
            await WriteFramesAsync(payload, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            int length = header.Length + payload.Length;
            if (!HasWriteRoom(length + FrameOverhead))
            {
                await FlushCoreAsync(cancellationToken).ConfigureAwait(false);
            }

            header.Span.CopyTo(_staging);
            payload.Span.CopyTo(_staging.AsSpan(header.Length));
            EncryptFrame(_staging.AsSpan(0, length));
        }

        if (flush)
        {
            await FlushCoreAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Encrypts <paramref name="plaintext"/> as frames of at most <see cref="MaxPlaintext"/> bytes.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteFramesAsync(ReadOnlyMemory<byte> plaintext, CancellationToken cancellationToken)
    {
        while (!plaintext.IsEmpty)
        {
            int chunk = Math.Min(plaintext.Length, MaxPlaintext);
            if (!HasWriteRoom(chunk + FrameOverhead))
            {
                await FlushCoreAsync(cancellationToken).ConfigureAwait(false);
            }

            EncryptFrame(plaintext.Span[..chunk]);
            plaintext = plaintext[chunk..];
        }
    }

    private void GrowReadBuffer()
    {
        var larger = GC.AllocateUninitializedArray<byte>(ReadBufferSize);
        _readBuffer.AsSpan(_readStart, _readEnd - _readStart).CopyTo(larger);
        _readEnd -= _readStart;
        _readStart = 0;
        _readBuffer = larger;
    }

    /// <summary>True when <paramref name="bytes"/> more fit the write buffer, growing it (once) to batch size if it is still small.</summary>
    private bool HasWriteRoom(int bytes)
    {
        if (_writeBuffer.Length - _writeLength >= bytes)
        {
            return true;
        }

        if (_writeBuffer.Length < WriteBufferSize)
        {
            var larger = GC.AllocateUninitializedArray<byte>(WriteBufferSize);
            _writeBuffer.AsSpan(0, _writeLength).CopyTo(larger);
            _writeBuffer = larger;
            return WriteBufferSize - _writeLength >= bytes;
        }

        return false;
    }

    private void EncryptFrame(ReadOnlySpan<byte> plaintext)
    {
        var frame = _writeBuffer.AsSpan(_writeLength);
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)(plaintext.Length + NoiseCipher.TagLength));
        _send.Encrypt(plaintext, frame[2..], default);
        _writeLength += 2 + plaintext.Length + NoiseCipher.TagLength;
        BytesWritten += plaintext.Length;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushCoreAsync(CancellationToken cancellationToken)
    {
        if (_writeLength > 0)
        {
            int length = _writeLength;
            _writeLength = 0;
            await _inner.WriteAsync(_writeBuffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => FlushCoreAsync(cancellationToken).AsTask();

    ValueTask Internal.IFrameTransport.FlushAsync(CancellationToken cancellationToken) => FlushCoreAsync(cancellationToken);

    ValueTask<int> Internal.IFrameTransport.ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => ReadAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => throw new NotSupportedException("Use FlushAsync.");

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Use ReadAsync.");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Use WriteAsync.");

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _inner.Dispose();
            _send.Dispose();
            _receive.Dispose();
        }

        base.Dispose(disposing);
    }
}

namespace PoIP.Network.Internal;

/// <summary>The byte channel under Yamux: Noise in production, a plain stream in unit tests.</summary>
internal interface IFrameTransport : IDisposable
{
    ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Writes header then payload (one writer at a time).</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> payload, bool flush, CancellationToken cancellationToken);

    ValueTask FlushAsync(CancellationToken cancellationToken);

    /// <summary>True when the next <paramref name="count"/> bytes have already been received, so <see cref="ReadBuffered"/> can take them without waiting.</summary>
    bool HasBuffered(int count);

    /// <summary>Reads exactly <c>destination.Length</c> bytes synchronously; only after <see cref="HasBuffered"/> said they are there.</summary>
    void ReadBuffered(Span<byte> destination);
}

/// <summary>A plain stream as a frame transport (tests, benchmarks of the muxer alone).</summary>
internal sealed class PlainFrameTransport(Stream inner) : IFrameTransport
{
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => inner.ReadAsync(buffer, cancellationToken);

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> payload, bool flush, CancellationToken cancellationToken)
    {
        if (!header.IsEmpty)
        {
            await inner.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        }

        if (!payload.IsEmpty)
        {
            await inner.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
        }

        if (flush)
        {
            await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => new(inner.FlushAsync(cancellationToken));

    public bool HasBuffered(int count) => false; // unbuffered: every read goes to the stream

    public void ReadBuffered(Span<byte> destination) => throw new InvalidOperationException("nothing is buffered");

    public void Dispose() => inner.Dispose();
}

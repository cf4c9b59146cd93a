using System.Buffers;

namespace PoIP.Network.Internal;

/// <summary>
/// Receive buffers for bulk Yamux data frames (32-64 KiB), shared by all sessions of the process: a
/// configured <see cref="ArrayPool{T}"/> (<c>ArrayPool&lt;byte&gt;.Create(64 KiB, 512)</c>), whose buckets
/// are process-wide, not per thread. <see cref="ArrayPool{T}.Shared"/> keeps arrays per thread and per
/// core, and the read loop rents on one thread while the application returns on another, so under load
/// it missed and allocated a 64 KiB array every few hundred frames; a configured pool finds a returned
/// segment again whatever thread gave it back. At most <see cref="Capacity"/> segments (32 MiB, enough for
/// the deepest receive queue of a 16 MiB window twice over) are kept. Other sizes go to
/// <see cref="ArrayPool{T}.Shared"/>: small frames keep small arrays, so a peer sending small frames
/// cannot make each one cost 64 KiB. (docs/network.md: the configured pool measured against the
/// hand-written locked stack it replaced.)
/// </summary>
internal static class SegmentPool
{
    public const int SegmentSize = 65536;
    public const int MinPooledLength = SegmentSize / 2 + 1;
    private const int Capacity = 512;
    private static readonly ArrayPool<byte> Segments = ArrayPool<byte>.Create(SegmentSize, Capacity);

    /// <summary>Fills the pool with <paramref name="count"/> segments (tests and benchmarks warm it before measuring).</summary>
    public static void Prewarm(int count)
    {
        var rented = new byte[Math.Min(count, Capacity)][];
        for (int i = 0; i < rented.Length; i++)
        {
            rented[i] = Segments.Rent(SegmentSize);
        }

        foreach (var segment in rented)
        {
            Segments.Return(segment);
        }
    }

    /// <summary>A buffer of at least <paramref name="length"/> bytes.</summary>
    public static byte[] Rent(int length) =>
        length < MinPooledLength || length > SegmentSize ? ArrayPool<byte>.Shared.Rent(length) : Segments.Rent(length);

    /// <summary>Gives back a buffer from <see cref="Rent"/>.</summary>
    public static void Return(byte[] buffer)
    {
        if (buffer.Length == SegmentSize)
        {
            Segments.Return(buffer);
        }
        else
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

using System.Buffers;

namespace PoIP.Network.Internal;

/// <summary>
/// Receive buffers for bulk Yamux data frames (32-64 KiB), shared by all sessions of the process.
/// <see cref="ArrayPool{T}.Shared"/> keeps arrays per thread and per core, and the read loop rents
/// on one thread while the application returns on another, so under load it missed and allocated
/// a 64 KiB array every few hundred frames; this pool is one locked stack, so a returned segment
/// is always found again. At most <see cref="Capacity"/> segments (32 MiB, enough for the deepest
/// receive queue of a 16 MiB window twice over) are kept.
/// Other sizes go to <see cref="ArrayPool{T}.Shared"/>: small frames keep small arrays, so a peer
/// sending small frames cannot make each one cost 64 KiB.
/// </summary>
internal static class SegmentPool
{
    public const int SegmentSize = 65536;
    public const int MinPooledLength = SegmentSize / 2 + 1;
    private const int Capacity = 512;
    private static readonly byte[]?[] Items = new byte[Capacity][];
    private static readonly Lock Gate = new();
    private static int _count;
    private static long _allocated;

    /// <summary>Segments allocated so far because the pool was empty (it grows to the deepest receive queue seen, then stops).</summary>
    public static long Allocated => Interlocked.Read(ref _allocated);

    /// <summary>Fills the pool up to <paramref name="count"/> free segments (tests and benchmarks warm it before measuring).</summary>
    public static void Prewarm(int count)
    {
        count = Math.Min(count, Capacity);
        lock (Gate)
        {
            while (_count < count)
            {
                Items[_count++] = GC.AllocateUninitializedArray<byte>(SegmentSize);
            }
        }
    }

    /// <summary>A buffer of at least <paramref name="length"/> bytes.</summary>
    public static byte[] Rent(int length)
    {
        if (length < MinPooledLength || length > SegmentSize)
        {
            return ArrayPool<byte>.Shared.Rent(length);
        }

        lock (Gate)
        {
            if (_count > 0)
            {
                var buffer = Items[--_count]!;
                Items[_count] = null;
                return buffer;
            }
        }

        Interlocked.Increment(ref _allocated);
        return GC.AllocateUninitializedArray<byte>(SegmentSize);
    }

    /// <summary>Gives back a buffer from <see cref="Rent"/>.</summary>
    public static void Return(byte[] buffer)
    {
        if (buffer.Length != SegmentSize)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return;
        }

        lock (Gate)
        {
            if (_count < Capacity)
            {
                Items[_count++] = buffer;
            }

        }
    }
}

namespace PoIP.Core.Encoding;

/// <summary>
/// Multiformats unsigned varints: little-endian base-128 groups, at most 9 bytes (63 bits), minimal
/// encoding required when reading (the spec forbids non-minimal forms).
/// </summary>
public static class UnsignedVarint
{
    /// <summary>The most bytes a varint may take under the multiformats spec.</summary>
    public const int MaxLength = 9;

    /// <summary>The largest value a 9-byte varint can carry (2^63 - 1).</summary>
    public const ulong MaxValue = (1UL << 63) - 1;

    /// <summary>Number of bytes <paramref name="value"/> takes when written.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value needs more than 63 bits.</exception>
    public static int GetLength(ulong value)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxValue);
        int length = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            length++;
        }

        return length;
    }

    /// <summary>Writes <paramref name="value"/> and returns the bytes written.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value needs more than 63 bits.</exception>
    /// <exception cref="ArgumentException">The destination is too small.</exception>
    public static int Write(Span<byte> destination, ulong value)
    {
        int length = GetLength(value);
        if (destination.Length < length)
        {
            throw new ArgumentException("Destination too small for the varint.", nameof(destination));
        }

        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i] = (byte)value;
        return length;
    }

    /// <summary>Outcome of <see cref="TryRead"/>.</summary>
    public enum ReadStatus
    {
        /// <summary>A value was read.</summary>
        Ok,

        /// <summary>The input ended before the varint did; more bytes may complete it.</summary>
        NeedMoreData,

        /// <summary>The varint is longer than 9 bytes or not minimally encoded.</summary>
        Invalid,
    }

    /// <summary>Reads one varint from the start of <paramref name="source"/>.</summary>
    public static ReadStatus TryRead(ReadOnlySpan<byte> source, out ulong value, out int bytesRead)
    {
        value = 0;
        bytesRead = 0;
        int shift = 0;
        for (int i = 0; i < source.Length; i++)
        {
            if (i >= MaxLength)
            {
                return ReadStatus.Invalid;
            }

            byte b = source[i];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                if (b == 0 && i > 0)
                {
                    value = 0;
                    return ReadStatus.Invalid; // non-minimal: trailing zero group
                }

                bytesRead = i + 1;
                return ReadStatus.Ok;
            }

            shift += 7;
        }

        value = 0;
        return source.Length >= MaxLength ? ReadStatus.Invalid : ReadStatus.NeedMoreData;
    }
}

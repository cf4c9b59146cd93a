using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace PoIP.Inference.Gguf;

/// <summary>Turns tensor data into 32-bit floats (F32, F16, BF16, Q8_0) and back (F32, F16, Q8_0).</summary>
public static class GgufDequantizer
{
    /// <summary>Dequantises <paramref name="source"/> of <paramref name="type"/> into <paramref name="destination"/>.</summary>
    /// <exception cref="NotSupportedException">The type is not one of F32, F16, BF16, Q8_0.</exception>
    /// <exception cref="ArgumentException">The sizes do not match.</exception>
    public static void ToFloat32(GgufTensorType type, ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (type)
        {
            case GgufTensorType.F32:
                Check(source.Length, destination.Length * 4L);
                if (BitConverter.IsLittleEndian)
                {
                    MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                }
                else
                {
                    for (int i = 0; i < destination.Length; i++)
                    {
                        destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]);
                    }
                }

                break;
            case GgufTensorType.F16:
                Check(source.Length, destination.Length * 2L);
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(i * 2)..]);
                }

                break;
            case GgufTensorType.BF16:
                Check(source.Length, destination.Length * 2L);
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(i * 2)..]) << 16);
                }

                break;
            case GgufTensorType.Q8_0:
                if (destination.Length % 32 != 0)
                {
                    throw new ArgumentException("Q8_0 needs a multiple of 32 elements.", nameof(destination));
                }

                Check(source.Length, destination.Length / 32 * 34L);
                for (int block = 0; block < destination.Length / 32; block++)
                {
                    ReadOnlySpan<byte> b = source.Slice(block * 34, 34);
                    float scale = (float)BinaryPrimitives.ReadHalfLittleEndian(b);
                    for (int j = 0; j < 32; j++)
                    {
                        destination[(block * 32) + j] = scale * (sbyte)b[2 + j];
                    }
                }

                break;
            default:
                throw new NotSupportedException($"Dequantising {type} is not supported (F32, F16, BF16, Q8_0 are).");
        }
    }

    /// <summary>Encodes floats as <paramref name="type"/> (F32, F16 or Q8_0, ggml's rounding).</summary>
    /// <exception cref="NotSupportedException">Another type.</exception>
    public static byte[] FromFloat32(GgufTensorType type, ReadOnlySpan<float> source)
    {
        switch (type)
        {
            case GgufTensorType.F32:
                {
                    var bytes = new byte[source.Length * 4];
                    for (int i = 0; i < source.Length; i++)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), source[i]);
                    }

                    return bytes;
                }

            case GgufTensorType.F16:
                {
                    var bytes = new byte[source.Length * 2];
                    for (int i = 0; i < source.Length; i++)
                    {
                        BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)source[i]);
                    }

                    return bytes;
                }

            case GgufTensorType.Q8_0:
                {
                    if (source.Length % 32 != 0)
                    {
                        throw new ArgumentException("Q8_0 needs a multiple of 32 elements.", nameof(source));
                    }

                    var bytes = new byte[source.Length / 32 * 34];
                    for (int block = 0; block < source.Length / 32; block++)
                    {
                        ReadOnlySpan<float> x = source.Slice(block * 32, 32);
                        float amax = 0;
                        foreach (float v in x)
                        {
                            amax = Math.Max(amax, Math.Abs(v));
                        }

                        float d = amax / 127f;
                        float id = d != 0 ? 1f / d : 0f;
                        Span<byte> b = bytes.AsSpan(block * 34, 34);
                        BinaryPrimitives.WriteHalfLittleEndian(b, (Half)d);
                        for (int j = 0; j < 32; j++)
                        {
                            b[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
                        }
                    }

                    return bytes;
                }

            default:
                throw new NotSupportedException($"Encoding {type} in managed code is not supported (F32, F16, Q8_0 are); quantise through llama.cpp.");
        }
    }

    private static void Check(long have, long need)
    {
        if (have != need)
        {
            throw new ArgumentException($"Expected {need} bytes of tensor data, got {have}.");
        }
    }
}

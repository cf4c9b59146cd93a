using System.Buffers.Binary;
using System.Text;
using PoIP.Core.Errors;

namespace PoIP.Inference.Gguf;

public sealed unsafe partial class GgufFile
{
    private unsafe struct Cursor(byte* basePointer, long length, GgufReaderLimits limits)
    {
        private long _position;

        public readonly long Position => _position;

        public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

        public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        public long ReadCount(long max, string what)
        {
            ulong count = ReadUInt64();
            if (count > (ulong)max)
            {
                throw Error(DecodeErrorKind.Oversize, $"{what} {count} is over the limit {max}.");
            }

            return (long)count;
        }

        public string ReadString()
        {
            long byteCount = ReadCount(limits.MaxStringBytes, "string length");
            ReadOnlySpan<byte> bytes = Take(byteCount);
            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException ex)
            {
                throw new PoIPDecodeException(TypeName, DecodeErrorKind.Malformed, "a string is not valid UTF-8.", ex);
            }
        }

        public GgufMetadataValue ReadValue(GgufValueType type, int depth) => type switch
        {
            GgufValueType.UInt8 => new(type, Take(1)[0]),
            GgufValueType.Int8 => new(type, (sbyte)Take(1)[0]),
            GgufValueType.UInt16 => new(type, BinaryPrimitives.ReadUInt16LittleEndian(Take(2))),
            GgufValueType.Int16 => new(type, BinaryPrimitives.ReadInt16LittleEndian(Take(2))),
            GgufValueType.UInt32 => new(type, ReadUInt32()),
            GgufValueType.Int32 => new(type, BinaryPrimitives.ReadInt32LittleEndian(Take(4))),
            GgufValueType.Float32 => new(type, BinaryPrimitives.ReadSingleLittleEndian(Take(4))),
            GgufValueType.Bool => new(type, ReadBool()),
            GgufValueType.String => new(type, ReadString()),
            GgufValueType.UInt64 => new(type, ReadUInt64()),
            GgufValueType.Int64 => new(type, BinaryPrimitives.ReadInt64LittleEndian(Take(8))),
            GgufValueType.Float64 => new(type, BinaryPrimitives.ReadDoubleLittleEndian(Take(8))),
            GgufValueType.Array => ReadArray(depth),
            _ => throw Error(DecodeErrorKind.InvalidField, $"unknown metadata value type {(uint)type}."),
        };

        private bool ReadBool()
        {
            byte b = Take(1)[0];
            return b switch
            {
                0 => false,
                1 => true,
                _ => throw Error(DecodeErrorKind.Malformed, $"a bool holds {b}."),
            };
        }

        private GgufMetadataValue ReadArray(int depth)
        {
            if (depth >= limits.MaxArrayDepth)
            {
                throw Error(DecodeErrorKind.Oversize, "arrays nested too deeply.");
            }

            var elementType = (GgufValueType)ReadUInt32();
            long count = ReadCount(limits.MaxArrayLength, "array length");
            int fixedSize = elementType switch
            {
                GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
                GgufValueType.UInt16 or GgufValueType.Int16 => 2,
                GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
                GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
                GgufValueType.String => 8, // at least the length prefix
                GgufValueType.Array => 12, // at least type + count
                _ => throw Error(DecodeErrorKind.InvalidField, $"unknown array element type {(uint)elementType}."),
            };
            if (count > (length - _position) / fixedSize)
            {
                throw Error(DecodeErrorKind.Truncated, $"array of {count} {elementType} runs past the end of the file.");
            }

            int n = (int)count;
            Array values = elementType switch
            {
                GgufValueType.UInt8 => Take(n).ToArray(),
                GgufValueType.Int8 => Fill(new sbyte[n], 1, static (s) => (sbyte)s[0]),
                GgufValueType.Bool => ReadBools(n),
                GgufValueType.UInt16 => Fill(new ushort[n], 2, BinaryPrimitives.ReadUInt16LittleEndian),
                GgufValueType.Int16 => Fill(new short[n], 2, BinaryPrimitives.ReadInt16LittleEndian),
                GgufValueType.UInt32 => Fill(new uint[n], 4, BinaryPrimitives.ReadUInt32LittleEndian),
                GgufValueType.Int32 => Fill(new int[n], 4, BinaryPrimitives.ReadInt32LittleEndian),
                GgufValueType.Float32 => Fill(new float[n], 4, BinaryPrimitives.ReadSingleLittleEndian),
                GgufValueType.UInt64 => Fill(new ulong[n], 8, BinaryPrimitives.ReadUInt64LittleEndian),
                GgufValueType.Int64 => Fill(new long[n], 8, BinaryPrimitives.ReadInt64LittleEndian),
                GgufValueType.Float64 => Fill(new double[n], 8, BinaryPrimitives.ReadDoubleLittleEndian),
                GgufValueType.String => ReadStrings(n),
                _ => ReadNested(n, depth),
            };
            return new GgufMetadataValue(GgufValueType.Array, values, elementType);
        }

        private bool[] ReadBools(int n)
        {
            var result = new bool[n];
            for (int i = 0; i < n; i++)
            {
                result[i] = ReadBool();
            }

            return result;
        }

        private string[] ReadStrings(int n)
        {
            var result = new string[n];
            for (int i = 0; i < n; i++)
            {
                result[i] = ReadString();
            }

            return result;
        }

        private GgufMetadataValue[] ReadNested(int n, int depth)
        {
            var result = new GgufMetadataValue[n];
            for (int i = 0; i < n; i++)
            {
                result[i] = ReadArray(depth + 1);
            }

            return result;
        }

        private T[] Fill<T>(T[] target, int size, ReadElement<T> read)
        {
            ReadOnlySpan<byte> bytes = Take((long)target.Length * size);
            for (int i = 0; i < target.Length; i++)
            {
                target[i] = read(bytes.Slice(i * size, size));
            }

            return target;
        }

        private ReadOnlySpan<byte> Take(long count)
        {
            if (count > length - _position)
            {
                throw Error(DecodeErrorKind.Truncated, $"the header ends early at byte {_position}.");
            }

            if (_position + count > limits.MaxHeaderBytes)
            {
                throw Error(DecodeErrorKind.Oversize, $"the header is over the limit of {limits.MaxHeaderBytes} bytes.");
            }

            var span = new ReadOnlySpan<byte>(basePointer + _position, checked((int)count));
            _position += count;
            return span;
        }
    }

    private delegate T ReadElement<T>(ReadOnlySpan<byte> bytes);

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}

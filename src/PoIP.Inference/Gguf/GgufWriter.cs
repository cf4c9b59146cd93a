using System.Buffers.Binary;
using System.Text;

namespace PoIP.Inference.Gguf;

/// <summary>
/// Writes GGUF v3 files: metadata in insertion order, tensor infos, then aligned tensor data.
/// Dimensions are given innermost (contiguous) first, as GGUF stores them. Not thread-safe.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<(string Key, GgufMetadataValue Value)> _metadata = [];
    private readonly List<(string Name, long[] Dimensions, GgufTensorType Type, byte[] Data)> _tensors = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Creates a writer with the given data alignment (a power of two; default 32).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a power of two.</exception>
    public GgufWriter(int alignment = GgufFile.DefaultAlignment)
    {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), "Alignment must be a power of two.");
        }

        Alignment = alignment;
        if (alignment != GgufFile.DefaultAlignment)
        {
            Add("general.alignment", new GgufMetadataValue(GgufValueType.UInt32, (uint)alignment));
        }
    }

    /// <summary>Data alignment.</summary>
    public int Alignment { get; }

    /// <summary>Adds a metadata value.</summary>
    /// <exception cref="ArgumentException">Duplicate key, or a value whose CLR type does not match its GGUF type.</exception>
    public GgufWriter Add(string key, GgufMetadataValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        if (!_keys.Add(key))
        {
            throw new ArgumentException($"Duplicate metadata key '{key}'.", nameof(key));
        }

        _metadata.Add((key, value));
        return this;
    }

    /// <summary>Adds a string.</summary>
    public GgufWriter Add(string key, string value) => Add(key, new GgufMetadataValue(GgufValueType.String, value));

    /// <summary>Adds a uint32.</summary>
    public GgufWriter Add(string key, uint value) => Add(key, new GgufMetadataValue(GgufValueType.UInt32, value));

    /// <summary>Adds an int32.</summary>
    public GgufWriter Add(string key, int value) => Add(key, new GgufMetadataValue(GgufValueType.Int32, value));

    /// <summary>Adds a float32.</summary>
    public GgufWriter Add(string key, float value) => Add(key, new GgufMetadataValue(GgufValueType.Float32, value));

    /// <summary>Adds a bool.</summary>
    public GgufWriter Add(string key, bool value) => Add(key, new GgufMetadataValue(GgufValueType.Bool, value));

    /// <summary>Adds a string array.</summary>
    public GgufWriter Add(string key, string[] values) => Add(key, new GgufMetadataValue(GgufValueType.Array, values, GgufValueType.String));

    /// <summary>Adds a float32 array.</summary>
    public GgufWriter Add(string key, float[] values) => Add(key, new GgufMetadataValue(GgufValueType.Array, values, GgufValueType.Float32));

    /// <summary>Adds an int32 array.</summary>
    public GgufWriter Add(string key, int[] values) => Add(key, new GgufMetadataValue(GgufValueType.Array, values, GgufValueType.Int32));

    /// <summary>Adds a tensor from raw, already encoded data.</summary>
    /// <exception cref="ArgumentException">Duplicate name, unknown type or a data size that does not match the dimensions.</exception>
    public GgufWriter AddTensor(string name, long[] dimensions, GgufTensorType type, byte[] data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(dimensions);
        ArgumentNullException.ThrowIfNull(data);
        if (dimensions.Length is 0 or > 4 || dimensions.Any(d => d <= 0))
        {
            throw new ArgumentException("A tensor has 1 to 4 positive dimensions.", nameof(dimensions));
        }

        if (!GgufTensorTypes.TryGetBlockLayout(type, out int blockElements, out int blockBytes) || dimensions[0] % blockElements != 0)
        {
            throw new ArgumentException($"Type {type} cannot hold rows of {dimensions[0]}.", nameof(type));
        }

        long elements = dimensions.Aggregate(1L, (a, b) => checked(a * b));
        if (elements / blockElements * blockBytes != data.LongLength)
        {
            throw new ArgumentException($"Tensor '{name}' needs {elements / blockElements * blockBytes} bytes, got {data.LongLength}.", nameof(data));
        }

        if (!_names.Add(name))
        {
            throw new ArgumentException($"Duplicate tensor '{name}'.", nameof(name));
        }

        _tensors.Add((name, (long[])dimensions.Clone(), type, data));
        return this;
    }

    /// <summary>Adds a tensor from floats, encoded as <paramref name="type"/> (F32, F16 or Q8_0).</summary>
    public GgufWriter AddTensor(string name, long[] dimensions, GgufTensorType type, ReadOnlySpan<float> values) =>
        AddTensor(name, dimensions, type, GgufDequantizer.FromFloat32(type, values));

    /// <summary>Writes the file to <paramref name="path"/> (overwriting it).</summary>
    public void WriteFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        WriteTo(stream);
    }

    /// <summary>Writes the GGUF image to a stream.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var header = new MemoryStream();
        byte[] scratch = new byte[8];
        void U32(uint v)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(scratch.AsSpan(), v);
            header.Write(scratch, 0, 4);
        }

        void U64(ulong v)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(scratch.AsSpan(), v);
            header.Write(scratch, 0, 8);
        }

        U32(GgufFile.Magic);
        U32(3);
        U64((ulong)_tensors.Count);
        U64((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(header, key);
            U32((uint)value.Type);
            WriteValue(header, value);
        }

        long offset = 0;
        var offsets = new long[_tensors.Count];
        for (int i = 0; i < _tensors.Count; i++)
        {
            var (name, dims, type, data) = _tensors[i];
            WriteString(header, name);
            U32((uint)dims.Length);
            foreach (long d in dims)
            {
                U64((ulong)d);
            }

            U32((uint)type);
            U64((ulong)offset);
            offsets[i] = offset;
            offset = AlignUp(offset + data.LongLength);
        }

        header.Write(new byte[AlignUp(header.Length) - header.Length]);
        header.Position = 0;
        header.CopyTo(stream);
        long written = 0;
        for (int i = 0; i < _tensors.Count; i++)
        {
            stream.Write(new byte[offsets[i] - written]);
            stream.Write(_tensors[i].Data);
            written = offsets[i] + _tensors[i].Data.LongLength;
        }

        stream.Write(new byte[AlignUp(written) - written]);
    }

    private long AlignUp(long value) => (value + Alignment - 1) / Alignment * Alignment;

    private static void WriteString(Stream stream, string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)bytes.LongLength);
        stream.Write(length);
        stream.Write(bytes);
    }

    private static void WriteValue(Stream stream, GgufMetadataValue value)
    {
        if (value.Type == GgufValueType.Array)
        {
            var array = (Array)value.Value;
            Span<byte> head = stackalloc byte[12];
            BinaryPrimitives.WriteUInt32LittleEndian(head, (uint)value.ElementType);
            BinaryPrimitives.WriteUInt64LittleEndian(head[4..], (ulong)array.LongLength);
            stream.Write(head);
            foreach (object element in array)
            {
                if (element is GgufMetadataValue nested)
                {
                    WriteValue(stream, nested);
                }
                else
                {
                    WriteScalar(stream, value.ElementType, element);
                }
            }

            return;
        }

        WriteScalar(stream, value.Type, value.Value);
    }

    private static void WriteScalar(Stream stream, GgufValueType type, object value)
    {
        Span<byte> b = stackalloc byte[8];
        switch (type)
        {
            case GgufValueType.UInt8: stream.WriteByte((byte)value); break;
            case GgufValueType.Int8: stream.WriteByte((byte)(sbyte)value); break;
            case GgufValueType.Bool: stream.WriteByte((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value); stream.Write(b[..2]); break;
            case GgufValueType.Int16: BinaryPrimitives.WriteInt16LittleEndian(b, (short)value); stream.Write(b[..2]); break;
            case GgufValueType.UInt32: BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)value); stream.Write(b[..4]); break;
            case GgufValueType.Int32: BinaryPrimitives.WriteInt32LittleEndian(b, (int)value); stream.Write(b[..4]); break;
            case GgufValueType.Float32: BinaryPrimitives.WriteSingleLittleEndian(b, (float)value); stream.Write(b[..4]); break;
            case GgufValueType.UInt64: BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)value); stream.Write(b); break;
            case GgufValueType.Int64: BinaryPrimitives.WriteInt64LittleEndian(b, (long)value); stream.Write(b); break;
            case GgufValueType.Float64: BinaryPrimitives.WriteDoubleLittleEndian(b, (double)value); stream.Write(b); break;
            case GgufValueType.String: WriteString(stream, (string)value); break;
            default: throw new ArgumentException($"Cannot write a GGUF value of type {type}.", nameof(type));
        }
    }
}

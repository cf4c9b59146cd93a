using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using PoIP.Core.Errors;

namespace PoIP.Inference.Gguf;

/// <summary>
/// A GGUF v2/v3 file, parsed and memory-mapped: the header (metadata, tensor infos) is decoded
/// eagerly under <see cref="GgufReaderLimits"/>, tensor data is read in place from the mapping.
/// Any malformed, truncated or oversize input raises <see cref="PoIPDecodeException"/>
/// (type name <c>GGUF</c>) and nothing else. Thread-safe for reading; dispose to unmap.
/// </summary>
public sealed unsafe partial class GgufFile : IDisposable
{
    /// <summary>The GGUF magic, "GGUF" read as a little-endian uint.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>Default data alignment when <c>general.alignment</c> is absent.</summary>
    public const int DefaultAlignment = 32;

    private const string TypeName = "GGUF";

    private readonly MemoryMappedFile? _mapping;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private readonly long _length;
    private GCHandle _pin;
    private int _disposed;

    private GgufFile(MemoryMappedFile? mapping, MemoryMappedViewAccessor? view, GCHandle pin, byte* basePointer, long length, GgufReaderLimits limits)
    {
        _mapping = mapping;
        _view = view;
        _pin = pin;
        _base = basePointer;
        _length = length;
        try
        {
            var cursor = new Cursor(basePointer, length, limits);
            uint magic = cursor.ReadUInt32();
            if (magic != Magic)
            {
                throw Error(DecodeErrorKind.Malformed, "bad magic (not a GGUF file).");
            }

            Version = cursor.ReadUInt32();
            if (Version is not (2 or 3))
            {
                throw Error(DecodeErrorKind.WrongVersion, $"version {Version} is not supported (2 and 3 are).");
            }

            long tensorCount = cursor.ReadCount(limits.MaxTensorCount, "tensor count");
            long metadataCount = cursor.ReadCount(limits.MaxMetadataCount, "metadata count");
            var metadata = new Dictionary<string, GgufMetadataValue>(StringComparer.Ordinal);
            for (long i = 0; i < metadataCount; i++)
            {
                string key = cursor.ReadString();
                var type = (GgufValueType)cursor.ReadUInt32();
                GgufMetadataValue value = cursor.ReadValue(type, 0);
                if (!metadata.TryAdd(key, value))
                {
                    throw Error(DecodeErrorKind.Malformed, $"duplicate metadata key '{key}'.");
                }
            }

            Metadata = metadata;
            Alignment = DefaultAlignment;
            if (metadata.TryGetValue("general.alignment", out GgufMetadataValue? alignmentValue))
            {
                long alignment = alignmentValue.Value switch
                {
                    ulong u => u <= 1 << 20 ? (long)u : 0,
                    _ when alignmentValue.IsInteger => alignmentValue.AsInt64(),
                    _ => 0,
                };
                if (alignment <= 0 || alignment > 1 << 20 || (alignment & (alignment - 1)) != 0)
                {
                    throw Error(DecodeErrorKind.InvalidField, "general.alignment must be a power of two up to 1 MiB.");
                }

                Alignment = (int)alignment;
            }

            var pending = new List<(string Name, long[] Dims, GgufTensorType Type, long Offset, long Size)>((int)Math.Min(tensorCount, 4096));
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (long i = 0; i < tensorCount; i++)
            {
                string name = cursor.ReadString();
                if (!names.Add(name))
                {
                    throw Error(DecodeErrorKind.Malformed, $"duplicate tensor name '{name}'.");
                }

                uint dimensionCount = cursor.ReadUInt32();
                if (dimensionCount == 0 || dimensionCount > limits.MaxDimensions)
                {
                    throw Error(DecodeErrorKind.InvalidField, $"tensor '{name}' has {dimensionCount} dimensions.");
                }

                var dims = new long[dimensionCount];
                long elements = 1;
                for (int d = 0; d < dimensionCount; d++)
                {
                    ulong dimension = cursor.ReadUInt64();
                    if (dimension == 0 || dimension > long.MaxValue / 2)
                    {
                        throw Error(DecodeErrorKind.InvalidField, $"tensor '{name}' has an invalid dimension {dimension}.");
                    }

                    dims[d] = (long)dimension;
                    if (elements > long.MaxValue / dims[d])
                    {
                        throw Error(DecodeErrorKind.Oversize, $"tensor '{name}' has too many elements.");
                    }

                    elements *= dims[d];
                }

                var tensorType = (GgufTensorType)cursor.ReadUInt32();
                if (!GgufTensorTypes.TryGetBlockLayout(tensorType, out int blockElements, out int blockBytes))
                {
                    throw Error(DecodeErrorKind.InvalidField, $"tensor '{name}' has unsupported type {(uint)tensorType}.");
                }

                if (dims[0] % blockElements != 0)
                {
                    throw Error(DecodeErrorKind.InvalidField, $"tensor '{name}' row of {dims[0]} is not a multiple of the {tensorType} block size {blockElements}.");
                }

                long blocks = elements / blockElements;
                if (blocks > long.MaxValue / blockBytes)
                {
                    throw Error(DecodeErrorKind.Oversize, $"tensor '{name}' is too large.");
                }

                ulong offset = cursor.ReadUInt64();
                if (offset > (ulong)length || offset % (ulong)Alignment != 0)
                {
                    throw Error(DecodeErrorKind.InvalidField, $"tensor '{name}' has an invalid data offset {offset}.");
                }

                pending.Add((name, dims, tensorType, (long)offset, blocks * blockBytes));
            }

            long headerEnd = cursor.Position;
            DataOffset = AlignUp(headerEnd, Alignment);
            if (DataOffset > length && tensorCount > 0)
            {
                throw Error(DecodeErrorKind.Truncated, "the file ends before its tensor data.");
            }

            var tensors = new List<GgufTensorInfo>(pending.Count);
            var byName = new Dictionary<string, GgufTensorInfo>(pending.Count, StringComparer.Ordinal);
            foreach (var (name, dims, type, offset, size) in pending)
            {
                if (DataOffset + offset > length || size > length - DataOffset - offset)
                {
                    throw Error(DecodeErrorKind.Truncated, $"tensor '{name}' extends past the end of the file.");
                }

                var info = new GgufTensorInfo(name, dims, type, offset, size);
                tensors.Add(info);
                byName[name] = info;
            }

            Tensors = tensors;
            _byName = byName;
        }
        catch
        {
            Release();
            throw;
        }
    }

    private readonly Dictionary<string, GgufTensorInfo> _byName;

    /// <summary>GGUF version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>Data alignment in bytes.</summary>
    public int Alignment { get; }

    /// <summary>Absolute offset of the tensor data section.</summary>
    public long DataOffset { get; }

    /// <summary>Total length of the file in bytes.</summary>
    public long Length => _length;

    /// <summary>All metadata, by key.</summary>
    public IReadOnlyDictionary<string, GgufMetadataValue> Metadata { get; }

    /// <summary>Tensor infos in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Opens and memory-maps a GGUF file.</summary>
    /// <exception cref="PoIPDecodeException">The file is not a valid GGUF v2/v3 file within <paramref name="limits"/>.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static GgufFile Open(string path, GgufReaderLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        long length = new FileInfo(path).Length;
        if (length == 0)
        {
            throw Error(DecodeErrorKind.Truncated, "the file is empty.");
        }

        var mapping = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        byte* pointer = null;
        try
        {
            view = mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        }
        catch
        {
            view?.Dispose();
            mapping.Dispose();
            throw;
        }

        // From here the instance owns the mapping and releases it itself if the header is invalid.
        long mapped = Math.Min(length, (long)view.SafeMemoryMappedViewHandle.ByteLength - view.PointerOffset);
        return new GgufFile(mapping, view, default, pointer + view.PointerOffset, mapped, limits ?? GgufReaderLimits.Default);
    }

    /// <summary>Parses a GGUF image held in memory (the array is pinned until disposal).</summary>
    /// <exception cref="PoIPDecodeException">The bytes are not a valid GGUF v2/v3 image within <paramref name="limits"/>.</exception>
    public static GgufFile Parse(byte[] bytes, GgufReaderLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var pin = GCHandle.Alloc(bytes, GCHandleType.Pinned);
        return new GgufFile(null, null, pin, (byte*)pin.AddrOfPinnedObject(), bytes.LongLength, limits ?? GgufReaderLimits.Default);
    }

    /// <summary>Finds a tensor by name.</summary>
    public bool TryGetTensor(string name, out GgufTensorInfo tensor) => _byName.TryGetValue(name, out tensor!);

    /// <summary>Gets a tensor by name.</summary>
    /// <exception cref="PoIPDecodeException">No such tensor.</exception>
    public GgufTensorInfo GetTensor(string name) =>
        _byName.TryGetValue(name, out GgufTensorInfo? tensor) ? tensor : throw Error(DecodeErrorKind.InvalidField, $"tensor '{name}' is missing.");

    /// <summary>The raw bytes of a tensor, read in place from the mapping (valid until disposal).</summary>
    /// <exception cref="NotSupportedException">The tensor is 2 GiB or larger.</exception>
    public ReadOnlySpan<byte> GetTensorBytes(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (tensor.ByteSize > int.MaxValue)
        {
            throw new NotSupportedException($"Tensor '{tensor.Name}' is {tensor.ByteSize} bytes; spans stop at 2 GiB.");
        }

        return new ReadOnlySpan<byte>(_base + DataOffset + tensor.Offset, (int)tensor.ByteSize);
    }

    /// <summary>Reads a tensor as 32-bit floats (F32, F16, BF16 and Q8_0 are dequantised).</summary>
    /// <exception cref="NotSupportedException">The tensor type cannot be dequantised by this SDK.</exception>
    public float[] ReadFloat32(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var result = new float[checked((int)tensor.ElementCount)];
        GgufDequantizer.ToFloat32(tensor.Type, GetTensorBytes(tensor), result);
        return result;
    }

    /// <summary>True when the key exists.</summary>
    public bool Has(string key) => Metadata.ContainsKey(key);

    /// <summary>A string value.</summary>
    /// <exception cref="PoIPDecodeException">Missing or not a string.</exception>
    public string GetString(string key) => TryGet(key, out GgufMetadataValue? v) && v.Value is string s ? s : throw Missing(key, "string");

    /// <summary>An integer value (any integer type), or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="PoIPDecodeException">Present but not an integer.</exception>
    public long GetInteger(string key, long? fallback = null)
    {
        if (!TryGet(key, out GgufMetadataValue? value))
        {
            return fallback ?? throw Missing(key, "integer");
        }

        if (!value.IsInteger || (value.Value is ulong u && u > long.MaxValue))
        {
            throw Missing(key, "integer");
        }

        return value.AsInt64();
    }

    /// <summary>An integer value that must lie in [<paramref name="min"/>, <paramref name="max"/>], or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="PoIPDecodeException">Present but not an integer in range.</exception>
    public int GetInt32(string key, int min, int max, int? fallback = null)
    {
        if (!TryGet(key, out _) && fallback is not null)
        {
            return fallback.Value;
        }

        long value = GetInteger(key);
        return value >= min && value <= max ? (int)value : throw Error(DecodeErrorKind.InvalidField, $"metadata '{key}' = {value} is outside [{min}, {max}].");
    }

    /// <summary>A floating-point value (float or double or integer), or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="PoIPDecodeException">Present but not a number.</exception>
    public double GetNumber(string key, double? fallback = null)
    {
        if (!TryGet(key, out GgufMetadataValue? value))
        {
            return fallback ?? throw Missing(key, "number");
        }

        return value.Value is float or double || value.IsInteger ? value.AsDouble() : throw Missing(key, "number");
    }

    /// <summary>A typed array value, e.g. <c>GetArray&lt;string&gt;("tokenizer.ggml.tokens")</c>; null when absent.</summary>
    /// <exception cref="PoIPDecodeException">Present but not an array of <typeparamref name="T"/>.</exception>
    public T[]? GetArray<T>(string key)
    {
        if (!TryGet(key, out GgufMetadataValue? value))
        {
            return null;
        }

        return value.Value as T[] ?? throw Missing(key, "array of " + typeof(T).Name);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Release();
        }
    }

    internal static PoIPDecodeException Error(DecodeErrorKind kind, string detail) => new(TypeName, kind, detail);

    private static long AlignUp(long value, int alignment) => (value + alignment - 1) / alignment * alignment;

    private bool TryGet(string key, out GgufMetadataValue value) => Metadata.TryGetValue(key, out value!);

    private static PoIPDecodeException Missing(string key, string what) => Error(DecodeErrorKind.InvalidField, $"metadata '{key}' is missing or not a {what}.");

    private void Release()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }

        _mapping?.Dispose();
        if (_pin.IsAllocated)
        {
            _pin.Free();
        }
    }
}

using FsCheck;
using FsCheck.Xunit;
using PoIP.Core.Errors;
using PoIP.Inference.Gguf;
using PoIP.Inference.Tests.Managed;

namespace PoIP.Inference.Tests.Gguf;

public sealed class GgufFileTests
{
    private static readonly Lazy<byte[]> TinyImage = new(() =>
    {
        using var dir = new TempDirectory();
        string path = dir.File("tiny.gguf");
        LlamaModelSynthesizer.Write(new SynthesisOptions { Dimension = 8, Layers = 1, Heads = 2, FeedForward = 8, Vocabulary = 300, ContextLength = 16 }, path);
        return File.ReadAllBytes(path);
    });

    [Fact]
    public void Open_Stories260K_ReadsHeaderMetadataAndTensors()
    {
        using GgufFile file = GgufFile.Open(Stories.Path);
        Assert.Equal(3u, file.Version);
        Assert.Equal("llama", file.GetString("general.architecture"));
        Assert.Equal(64, file.GetInteger("llama.embedding_length"));
        Assert.Equal(5, file.GetInteger("llama.block_count"));
        Assert.Equal(512, file.GetArray<string>("tokenizer.ggml.tokens")!.Length);
        Assert.Equal(512, file.GetArray<float>("tokenizer.ggml.scores")!.Length);
        GgufTensorInfo embedding = file.GetTensor("token_embd.weight");
        Assert.Equal(new long[] { 64, 512 }, embedding.Dimensions);
        Assert.Equal(GgufTensorType.F32, embedding.Type);
        Assert.Equal(0, file.DataOffset % file.Alignment);
        long totalBytes = file.Tensors.Sum(t => t.ByteSize);
        Assert.True(file.DataOffset + totalBytes <= file.Length);
        float[] values = file.ReadFloat32(embedding);
        Assert.Contains(values, v => v != 0f);
        Assert.All(values, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void WriteTo_EveryValueTypeAndTensorType_RoundTrips()
    {
        float[] data = [.. Enumerable.Range(0, 64).Select(i => (i - 32) / 8f)];
        var writer = new GgufWriter(alignment: 64)
            .Add("u8", new GgufMetadataValue(GgufValueType.UInt8, (byte)200))
            .Add("i8", new GgufMetadataValue(GgufValueType.Int8, (sbyte)-5))
            .Add("u16", new GgufMetadataValue(GgufValueType.UInt16, (ushort)65000))
            .Add("i16", new GgufMetadataValue(GgufValueType.Int16, (short)-300))
            .Add("u32", 4_000_000_000u)
            .Add("i32", -7)
            .Add("f32", 1.5f)
            .Add("bool", true)
            .Add("str", "héllo ▁ wörld")
            .Add("u64", new GgufMetadataValue(GgufValueType.UInt64, ulong.MaxValue))
            .Add("i64", new GgufMetadataValue(GgufValueType.Int64, long.MinValue))
            .Add("f64", new GgufMetadataValue(GgufValueType.Float64, Math.PI))
            .Add("strings", ["a", string.Empty, "ccc"])
            .Add("floats", [1f, -2f])
            .Add("ints", [3, 4, 5])
            .Add("nested", new GgufMetadataValue(GgufValueType.Array, new[]
            {
                new GgufMetadataValue(GgufValueType.Array, new[] { 1, 2 }, GgufValueType.Int32),
                new GgufMetadataValue(GgufValueType.Array, new[] { "x" }, GgufValueType.String),
            }, GgufValueType.Array))
            .AddTensor("f32", [16, 4], GgufTensorType.F32, data)
            .AddTensor("f16", [64], GgufTensorType.F16, data)
            .AddTensor("q8", [32, 2], GgufTensorType.Q8_0, data);
        using var stream = new MemoryStream();
        writer.WriteTo(stream);

        using GgufFile file = GgufFile.Parse(stream.ToArray());
        Assert.Equal(64, file.Alignment);
        Assert.Equal((byte)200, file.Metadata["u8"].Value);
        Assert.Equal((sbyte)-5, file.Metadata["i8"].Value);
        Assert.Equal((ushort)65000, file.Metadata["u16"].Value);
        Assert.Equal((short)-300, file.Metadata["i16"].Value);
        Assert.Equal(4_000_000_000L, file.GetInteger("u32"));
        Assert.Equal(-7L, file.GetInteger("i32"));
        Assert.Equal(1.5, file.GetNumber("f32"));
        Assert.Equal(true, file.Metadata["bool"].Value);
        Assert.Equal("héllo ▁ wörld", file.GetString("str"));
        Assert.Equal(ulong.MaxValue, file.Metadata["u64"].Value);
        Assert.Equal(long.MinValue, file.GetInteger("i64"));
        Assert.Equal(Math.PI, file.GetNumber("f64"));
        Assert.Equal(["a", string.Empty, "ccc"], file.GetArray<string>("strings")!);
        Assert.Equal([1f, -2f], file.GetArray<float>("floats")!);
        Assert.Equal([3, 4, 5], file.GetArray<int>("ints")!);
        var nested = file.GetArray<GgufMetadataValue>("nested")!;
        Assert.Equal(new[] { 1, 2 }, (int[])nested[0].Value);
        Assert.Equal(new[] { "x" }, (string[])nested[1].Value);
        Assert.Equal(data, file.ReadFloat32(file.GetTensor("f32")));
        Assert.Equal(data, file.ReadFloat32(file.GetTensor("f16"))); // these values are exact in half precision
        float[] q8 = file.ReadFloat32(file.GetTensor("q8"));
        for (int i = 0; i < data.Length; i++)
        {
            Assert.InRange(q8[i], data[i] - 0.03f, data[i] + 0.03f);
        }

        Assert.All(file.Tensors, t => Assert.Equal(0, t.Offset % 64));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(23)]
    [InlineData(100)]
    public void Parse_Truncated_ThrowsTruncated(int length)
    {
        var error = Assert.Throws<PoIPDecodeException>(() => GgufFile.Parse(TinyImage.Value[..length]).Dispose());
        Assert.Equal(DecodeErrorKind.Truncated, error.Kind);
    }

    [Fact]
    public void Open_InvalidFileOnDisk_ThrowsTypedErrorAndReleasesMapping()
    {
        // Regression: a header error used to surface as ObjectDisposedException from Open's cleanup.
        using var dir = new TempDirectory();
        string path = dir.File("bad.gguf");
        byte[] image = (byte[])TinyImage.Value.Clone();
        image[4] = 9;
        File.WriteAllBytes(path, image);
        Assert.Equal(DecodeErrorKind.WrongVersion, Assert.Throws<PoIPDecodeException>(() => GgufFile.Open(path)).Kind);
        File.WriteAllBytes(path, TinyImage.Value); // the mapping is gone: the file can be rewritten
        using (GgufFile file = GgufFile.Open(path))
        {
            Assert.Equal(3u, file.Version);
        }

        File.WriteAllBytes(path, []);
        Assert.Equal(DecodeErrorKind.Truncated, Assert.Throws<PoIPDecodeException>(() => GgufFile.Open(dir.File("bad.gguf"))).Kind);
    }

    [Fact]
    public void Parse_WrongMagicOrVersion_ThrowsTypedErrors()
    {
        byte[] image = (byte[])TinyImage.Value.Clone();
        image[0] = (byte)'X';
        Assert.Equal(DecodeErrorKind.Malformed, Assert.Throws<PoIPDecodeException>(() => GgufFile.Parse(image)).Kind);
        image = (byte[])TinyImage.Value.Clone();
        image[4] = 1;
        Assert.Equal(DecodeErrorKind.WrongVersion, Assert.Throws<PoIPDecodeException>(() => GgufFile.Parse(image)).Kind);
    }

    [Fact]
    public void Parse_OverLimits_ThrowsOversize()
    {
        var limits = new GgufReaderLimits { MaxArrayLength = 100 };
        Assert.Equal(DecodeErrorKind.Oversize, Assert.Throws<PoIPDecodeException>(() => GgufFile.Parse(TinyImage.Value, limits)).Kind);
        limits = new GgufReaderLimits { MaxHeaderBytes = 1000 };
        Assert.Equal(DecodeErrorKind.Oversize, Assert.Throws<PoIPDecodeException>(() => GgufFile.Parse(TinyImage.Value, limits)).Kind);
    }

    [Property(MaxTest = 400)]
    public void Parse_RandomMutations_OnlyTypedErrors(NonNegativeInt position, byte value, NonNegativeInt extraFlips, bool truncate)
    {
        byte[] image = (byte[])TinyImage.Value.Clone();
        int header = Math.Min(image.Length, 9000); // mutate where the header lives
        var random = new Random(position.Get);
        image[position.Get % header] = value;
        for (int i = 0; i < extraFlips.Get % 4; i++)
        {
            image[random.Next(header)] ^= (byte)(1 << random.Next(8));
        }

        if (truncate)
        {
            image = image[..(position.Get % image.Length)];
        }

        try
        {
            using GgufFile file = GgufFile.Parse(image);
            foreach (GgufTensorInfo tensor in file.Tensors)
            {
                Assert.True(file.DataOffset + tensor.Offset + tensor.ByteSize <= image.Length);
                _ = file.GetTensorBytes(tensor).Length;
            }
        }
        catch (PoIPDecodeException)
        {
        }
    }

    [Property(MaxTest = 200)]
    public void Parse_RandomBytes_OnlyTypedErrors(byte[] tail)
    {
        byte[] image = [.. "GGUF"u8.ToArray(), 3, 0, 0, 0, .. tail];
        try
        {
            GgufFile.Parse(image).Dispose();
        }
        catch (PoIPDecodeException)
        {
        }
    }
}

public sealed class GgufWriterPropertyTests
{
    [FsCheck.Xunit.Property(MaxTest = 200)]
    public void WriteThenParse_RandomMetadataAndTensor_RoundTrips(int[] ints, float[] floats, string[]? strings, string? text, FsCheck.PositiveInt rows)
    {
        string[] cleanStrings = [.. (strings ?? []).Select(Clean)];
        int rowCount = 1 + (rows.Get % 8);
        float[] tensor = [.. Enumerable.Range(0, 32 * rowCount).Select(i => (float)Math.Sin(i + ints.Length))];
        var writer = new GgufWriter()
            .Add("ints", ints)
            .Add("floats", floats)
            .Add("strings", cleanStrings)
            .Add("text", Clean(text))
            .AddTensor("t", [32, rowCount], GgufTensorType.F32, tensor);
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        using GgufFile file = GgufFile.Parse(stream.ToArray());
        Assert.Equal(ints, file.GetArray<int>("ints")!);
        Assert.Equal(floats.Select(BitConverter.SingleToInt32Bits), file.GetArray<float>("floats")!.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(cleanStrings, file.GetArray<string>("strings")!);
        Assert.Equal(Clean(text), file.GetString("text"));
        Assert.Equal(tensor, file.ReadFloat32(file.GetTensor("t")));
    }

    // GGUF strings are UTF-8: lone surrogates cannot be stored.
    private static string Clean(string? value) => new([.. (value ?? string.Empty).Select(c => char.IsSurrogate(c) ? '?' : c)]);
}

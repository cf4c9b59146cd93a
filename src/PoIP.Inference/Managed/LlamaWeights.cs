using System.Numerics.Tensors;
using PoIP.Core.Errors;
using PoIP.Inference.Gguf;

namespace PoIP.Inference.Managed;

/// <summary>A weight matrix held as floats: <see cref="Rows"/> rows of <see cref="Columns"/> contiguous values.</summary>
internal sealed class WeightMatrix(float[] data, int rows, int columns, InputRounding inputRounding)
{
    public int Rows { get; } = rows;

    public int Columns { get; } = columns;

    /// <summary>How llama.cpp converts the input vector before its dot products with these weights.</summary>
    public InputRounding InputRounding { get; } = inputRounding;

    public ReadOnlySpan<float> Row(int row) => data.AsSpan(row * Columns, Columns);

    /// <summary>y = W·x.</summary>
    public void Multiply(ReadOnlySpan<float> x, Span<float> y, float[] scratch, ParallelOptions parallel)
    {
        ReadOnlySpan<float> input = x;
        if (InputRounding == InputRounding.Half)
        {
            for (int i = 0; i < Columns; i++)
            {
                scratch[i] = (float)(Half)x[i];
            }

            input = scratch.AsSpan(0, Columns);
        }
        else if (InputRounding == InputRounding.Q8)
        {
            // ggml's quantize_row_q8_0: per block of 32, d = amax/127, q = round(x/d), scale stored as f16.
            for (int block = 0; block < Columns; block += 32)
            {
                ReadOnlySpan<float> xs = x.Slice(block, 32);
                float amax = TensorPrimitives.MaxMagnitude(xs);
                amax = MathF.Abs(amax);
                float d = amax / 127f;
                float id = d != 0f ? 1f / d : 0f;
                float stored = (float)(Half)d;
                for (int j = 0; j < 32; j++)
                {
                    scratch[block + j] = stored * MathF.Round(xs[j] * id, MidpointRounding.AwayFromZero);
                }
            }

            input = scratch.AsSpan(0, Columns);
        }

        if ((long)Rows * Columns < 1 << 16 || parallel.MaxDegreeOfParallelism == 1)
        {
            for (int r = 0; r < Rows; r++)
            {
                y[r] = TensorPrimitives.Dot(Row(r), input);
            }

            return;
        }

        float[] inputArray = InputRounding != InputRounding.None ? scratch : input.ToArray();
        float[] output = new float[Rows];
        int chunk = Math.Max(16, Rows / (Environment.ProcessorCount * 4));
        Parallel.For(0, (Rows + chunk - 1) / chunk, parallel, c =>
        {
            ReadOnlySpan<float> v = inputArray.AsSpan(0, Columns);
            int end = Math.Min(Rows, (c + 1) * chunk);
            for (int r = c * chunk; r < end; r++)
            {
                output[r] = TensorPrimitives.Dot(Row(r), v);
            }
        });
        output.CopyTo(y);
    }
}

/// <summary>How llama.cpp's CPU backend converts activations before a matrix product (its vec_dot_type).</summary>
internal enum InputRounding
{
    /// <summary>F32 weights: activations stay F32.</summary>
    None,

    /// <summary>F16 weights: activations are rounded to F16.</summary>
    Half,

    /// <summary>Q8_0 weights: activations are quantised to Q8_0 blocks.</summary>
    Q8,
}

/// <summary>Hyper-parameters and weights of a llama-architecture model, dequantised to floats.</summary>
internal sealed class LlamaWeights
{
    private LlamaWeights()
    {
    }

    public int EmbeddingLength { get; private init; }

    public int LayerCount { get; private init; }

    public int FeedForwardLength { get; private init; }

    public int HeadCount { get; private init; }

    public int KvHeadCount { get; private init; }

    public int HeadDimension { get; private init; }

    public int RopeDimensions { get; private init; }

    public float RopeFrequencyBase { get; private init; }

    public float RmsEpsilon { get; private init; }

    public int TrainedContextLength { get; private init; }

    public int VocabularySize { get; private init; }

    public WeightMatrix TokenEmbedding { get; private init; } = null!;

    public float[] OutputNorm { get; private init; } = [];

    public WeightMatrix Output { get; private init; } = null!;

    public LlamaLayer[] Layers { get; private init; } = [];

    public static LlamaWeights Load(GgufFile file, int vocabularySize)
    {
        string architecture = file.GetString("general.architecture");
        if (architecture != "llama")
        {
            throw GgufFile.Error(DecodeErrorKind.InvalidField, $"architecture '{architecture}' is not supported (only llama).");
        }

        int embd = Positive(file, "llama.embedding_length");
        int layers = Positive(file, "llama.block_count");
        int ff = Positive(file, "llama.feed_forward_length");
        int heads = Positive(file, "llama.attention.head_count");
        int kvHeads = file.GetInt32("llama.attention.head_count_kv", 1, heads, heads);
        if (kvHeads <= 0 || heads % kvHeads != 0 || embd % heads != 0)
        {
            throw GgufFile.Error(DecodeErrorKind.InvalidField, $"head counts {heads}/{kvHeads} do not divide embedding length {embd}.");
        }

        int headDim = embd / heads;
        int rot = file.GetInt32("llama.rope.dimension_count", 0, headDim, headDim);
        if (rot <= 0 || rot > headDim || rot % 2 != 0)
        {
            throw GgufFile.Error(DecodeErrorKind.InvalidField, $"rope dimension count {rot} is invalid for head dimension {headDim}.");
        }

        int kvDim = kvHeads * headDim;
        var shared = new WeightsReader(file);
        WeightMatrix embedding = shared.Matrix("token_embd.weight", embd, vocabularySize);
        var layerList = new LlamaLayer[layers];
        for (int l = 0; l < layers; l++)
        {
            string p = $"blk.{l}.";
            layerList[l] = new LlamaLayer(
                shared.Vector(p + "attn_norm.weight", embd),
                shared.Matrix(p + "attn_q.weight", embd, embd),
                shared.Matrix(p + "attn_k.weight", embd, kvDim),
                shared.Matrix(p + "attn_v.weight", embd, kvDim),
                shared.Matrix(p + "attn_output.weight", embd, embd),
                shared.Vector(p + "ffn_norm.weight", embd),
                shared.Matrix(p + "ffn_gate.weight", embd, ff),
                shared.Matrix(p + "ffn_up.weight", embd, ff),
                shared.Matrix(p + "ffn_down.weight", ff, embd));
        }

        return new LlamaWeights
        {
            EmbeddingLength = embd,
            LayerCount = layers,
            FeedForwardLength = ff,
            HeadCount = heads,
            KvHeadCount = kvHeads,
            HeadDimension = headDim,
            RopeDimensions = rot,
            RopeFrequencyBase = (float)file.GetNumber("llama.rope.freq_base", 10000.0),
            RmsEpsilon = (float)file.GetNumber("llama.attention.layer_norm_rms_epsilon", 1e-5),
            TrainedContextLength = Positive(file, "llama.context_length"),
            VocabularySize = vocabularySize,
            TokenEmbedding = embedding,
            OutputNorm = shared.Vector("output_norm.weight", embd),
            Output = file.TryGetTensor("output.weight", out _) ? shared.Matrix("output.weight", embd, vocabularySize) : embedding,
            Layers = layerList,
        };
    }

    private static int Positive(GgufFile file, string key)
    {
        long value = file.GetInteger(key);
        return value is > 0 and <= 1 << 24 ? (int)value : throw GgufFile.Error(DecodeErrorKind.InvalidField, $"{key} = {value} is out of range.");
    }

    private sealed class WeightsReader(GgufFile file)
    {
        public WeightMatrix Matrix(string name, int columns, int rows)
        {
            GgufTensorInfo tensor = file.GetTensor(name);
            if (tensor.Dimensions.Count != 2 || tensor.Dimensions[0] != columns || tensor.Dimensions[1] != rows)
            {
                throw GgufFile.Error(DecodeErrorKind.InvalidField, $"tensor '{name}' has shape [{string.Join(", ", tensor.Dimensions)}], expected [{columns}, {rows}].");
            }

            InputRounding rounding = tensor.Type switch
            {
                GgufTensorType.F16 => InputRounding.Half,
                GgufTensorType.Q8_0 => InputRounding.Q8,
                _ => InputRounding.None,
            };
            return new WeightMatrix(Read(tensor), rows, columns, rounding);
        }

        public float[] Vector(string name, int length)
        {
            GgufTensorInfo tensor = file.GetTensor(name);
            if (tensor.ElementCount != length)
            {
                throw GgufFile.Error(DecodeErrorKind.InvalidField, $"tensor '{name}' has {tensor.ElementCount} elements, expected {length}.");
            }

            return Read(tensor);
        }

        private float[] Read(GgufTensorInfo tensor)
        {
            try
            {
                return file.ReadFloat32(tensor);
            }
            catch (NotSupportedException ex)
            {
                throw new EngineException("engine.unsupported_model", $"The managed engine cannot read tensor '{tensor.Name}' of type {tensor.Type} (F32, F16, BF16, Q8_0 only).", isFatal: true, ex);
            }
        }
    }
}

/// <summary>One transformer block.</summary>
internal sealed record LlamaLayer(
    float[] AttentionNorm,
    WeightMatrix Query,
    WeightMatrix Key,
    WeightMatrix Value,
    WeightMatrix AttentionOutput,
    float[] FeedForwardNorm,
    WeightMatrix Gate,
    WeightMatrix Up,
    WeightMatrix Down);

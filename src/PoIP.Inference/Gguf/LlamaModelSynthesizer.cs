using System.Globalization;

namespace PoIP.Inference.Gguf;

/// <summary>Weight encodings <see cref="LlamaModelSynthesizer"/> can write.</summary>
#pragma warning disable CA1707 // names follow llama.cpp
public enum SynthesisType
{
    /// <summary>All tensors F32.</summary>
    F32,

    /// <summary>Matrices F16, 1-D norms F32.</summary>
    F16,

    /// <summary>Written as F16, then quantised by llama.cpp to Q8_0 (rows must be multiples of 32).</summary>
    Q8_0,

    /// <summary>Written as F16, then quantised by llama.cpp to Q4_K_M (rows must be multiples of 256).</summary>
    Q4_K_M,
}
#pragma warning restore CA1707

/// <summary>Shape, encoding and seed of a synthesized llama-architecture model.</summary>
public sealed record SynthesisOptions
{
    /// <summary>Embedding width (n_embd). Default 64.</summary>
    public int Dimension { get; init; } = 64;

    /// <summary>Transformer blocks. Default 2.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Attention heads. Default 4.</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Key/value heads (grouped-query attention); 0 means equal to <see cref="Heads"/>. Default 0.</summary>
    public int KvHeads { get; init; }

    /// <summary>Feed-forward width. Default 128.</summary>
    public int FeedForward { get; init; } = 128;

    /// <summary>Vocabulary size, at least 260 (3 specials + 256 byte tokens + pieces). Default 512.</summary>
    public int Vocabulary { get; init; } = 512;

    /// <summary>Trained context length written to the header. Default 512.</summary>
    public int ContextLength { get; init; } = 512;

    /// <summary>Weight encoding. Default F32.</summary>
    public SynthesisType Type { get; init; } = SynthesisType.F32;

    /// <summary>Seed of the weights.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Returns the first problem with these options, or null.</summary>
    public string? Validate()
    {
        int kv = KvHeads == 0 ? Heads : KvHeads;
        int rowMultiple = Type switch { SynthesisType.Q8_0 => 32, SynthesisType.Q4_K_M => 256, _ => 1 };
        return Dimension is < 8 or > 65_536 ? "dim must be in [8, 65536]."
            : Layers is < 1 or > 512 ? "layers must be in [1, 512]."
            : Heads < 1 || Dimension % Heads != 0 ? "heads must divide dim."
            : (Dimension / Heads) % 2 != 0 ? "the head dimension (dim/heads) must be even."
            : kv < 1 || Heads % kv != 0 ? "kv-heads must divide heads."
            : FeedForward is < 1 or > 1 << 20 ? "ff must be in [1, 1048576]."
            : Vocabulary is < 260 or > 1 << 20 ? "vocab must be in [260, 1048576]."
            : ContextLength is < 8 or > 1 << 20 ? "context length must be in [8, 1048576]."
            : Dimension % rowMultiple != 0 || FeedForward % rowMultiple != 0
                ? $"{Type} needs dim and ff to be multiples of {rowMultiple} (llama.cpp silently falls back to another type otherwise)."
            : null;
    }
}

/// <summary>
/// Writes llama-architecture GGUF v3 models with seeded random weights (scaled so activations stay
/// sane through any depth) and a byte-fallback SentencePiece vocabulary: &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;,
/// the 256 byte tokens &lt;0x00&gt;..&lt;0xFF&gt;, printable ASCII characters and merged English pieces,
/// so any text is tokenizable. Identical options give a byte-identical file on a given platform.
/// </summary>
public static class LlamaModelSynthesizer
{
    private static readonly string[] Words =
    [
        "the", "and", "a", "to", "was", "he", "she", "it", "they", "in", "of", "on", "with", "his", "her", "said", "you", "for", "is", "that",
        "Once", "upon", "time", "there", "little", "girl", "boy", "named", "Lily", "Tom", "day", "big", "happy", "sad", "dog", "cat", "ball",
        "play", "played", "park", "tree", "friend", "friends", "mom", "home", "went", "saw", "wanted", "very", "but", "so", "not", "one", "all",
        "had", "were", "be", "at", "like", "good", "red", "blue", "sun", "run", "fun", "toy", "bird", "fish", "water", "house", "look", "help",
    ];

    /// <summary>Writes a model to <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="Core.Errors.EngineException">Quantisation through llama.cpp failed.</exception>
    public static void Write(SynthesisOptions options, string path)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? problem = options.Validate();
        if (problem is not null)
        {
            throw new ArgumentException("Invalid synthesis options: " + problem, nameof(options));
        }

        if (options.Type is SynthesisType.F32 or SynthesisType.F16)
        {
            Build(options, options.Type == SynthesisType.F32 ? GgufTensorType.F32 : GgufTensorType.F16).WriteFile(path);
            return;
        }

        string temporary = path + ".f16.tmp";
        try
        {
            Build(options, GgufTensorType.F16).WriteFile(temporary);
            GgufQuantizer.Quantize(temporary, path, options.Type == SynthesisType.Q8_0 ? GgufQuantization.Q8_0 : GgufQuantization.Q4_K_M);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>The vocabulary written for <paramref name="size"/> tokens: texts, scores and token types.</summary>
    public static (string[] Tokens, float[] Scores, int[] Types) Vocabulary(int size)
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<int> { 2, 3, 3 };
        for (int b = 0; b < 256; b++)
        {
            tokens.Add(string.Create(CultureInfo.InvariantCulture, $"<0x{b:X2}>"));
            types.Add(6);
        }

        var pieces = new List<string> { "\u2581" };
        for (char c = '!'; c <= '~'; c++)
        {
            pieces.Add(c.ToString());
        }

        foreach (string word in Words)
        {
            string marked = "\u2581" + word;
            for (int length = 2; length <= marked.Length; length++)
            {
                pieces.Add(marked[..length]);
            }
        }

        for (char a = 'a'; a <= 'z'; a++)
        {
            for (char b = 'a'; b <= 'z'; b++)
            {
                pieces.Add(string.Concat(a, b));
            }
        }

        var seen = new HashSet<string>(tokens, StringComparer.Ordinal);
        var scores = new List<float> { 0f, 0f, 0f };
        scores.AddRange(Enumerable.Repeat(0f, 256));
        int rank = 0;
        foreach (string piece in pieces)
        {
            if (tokens.Count >= size)
            {
                break;
            }

            if (seen.Add(piece))
            {
                tokens.Add(piece);
                types.Add(1);
                scores.Add(-rank++);
            }
        }

        for (int filler = 0; tokens.Count < size; filler++)
        {
            tokens.Add(string.Create(CultureInfo.InvariantCulture, $"<unused{filler}>"));
            types.Add(5);
            scores.Add(-1e9f);
        }

        return ([.. tokens], [.. scores], [.. types]);
    }

    private static GgufWriter Build(SynthesisOptions o, GgufTensorType matrixType)
    {
        int kvHeads = o.KvHeads == 0 ? o.Heads : o.KvHeads;
        int headDim = o.Dimension / o.Heads;
        int kvDim = kvHeads * headDim;
        var (tokens, scores, types) = Vocabulary(o.Vocabulary);
        var writer = new GgufWriter();
        writer.Add("general.architecture", "llama")
            .Add("general.name", string.Create(CultureInfo.InvariantCulture, $"poip-synth-d{o.Dimension}-l{o.Layers}-h{o.Heads}-kv{kvHeads}-ff{o.FeedForward}-v{o.Vocabulary}-s{o.Seed}"))
            .Add("general.file_type", matrixType == GgufTensorType.F32 ? 0u : 1u)
            .Add("llama.context_length", (uint)o.ContextLength)
            .Add("llama.embedding_length", (uint)o.Dimension)
            .Add("llama.block_count", (uint)o.Layers)
            .Add("llama.feed_forward_length", (uint)o.FeedForward)
            .Add("llama.rope.dimension_count", (uint)headDim)
            .Add("llama.rope.freq_base", 10000f)
            .Add("llama.attention.head_count", (uint)o.Heads)
            .Add("llama.attention.head_count_kv", (uint)kvHeads)
            .Add("llama.attention.layer_norm_rms_epsilon", 1e-5f)
            .Add("llama.vocab_size", (uint)o.Vocabulary)
            .Add("tokenizer.ggml.model", "llama")
            .Add("tokenizer.ggml.tokens", tokens)
            .Add("tokenizer.ggml.scores", scores)
            .Add("tokenizer.ggml.token_type", types)
            .Add("tokenizer.ggml.unknown_token_id", 0u)
            .Add("tokenizer.ggml.bos_token_id", 1u)
            .Add("tokenizer.ggml.eos_token_id", 2u)
            .Add("tokenizer.ggml.add_bos_token", true)
            .Add("tokenizer.ggml.add_eos_token", false);

        var random = new SplitMix64(o.Seed);
        float residualScale = 1f / MathF.Sqrt(2f * o.Layers);
        void Matrix(string name, int columns, int rows, float scale) =>
            writer.AddTensor(name, [columns, rows], matrixType, random.Normal(columns * rows, scale / MathF.Sqrt(columns)));
        void Norm(string name) => writer.AddTensor(name, [o.Dimension], GgufTensorType.F32, random.NormVector(o.Dimension));

        writer.AddTensor("token_embd.weight", [o.Dimension, o.Vocabulary], matrixType, random.Normal(o.Dimension * o.Vocabulary, 1f));
        for (int l = 0; l < o.Layers; l++)
        {
            string p = string.Create(CultureInfo.InvariantCulture, $"blk.{l}.");
            Norm(p + "attn_norm.weight");
            Matrix(p + "attn_q.weight", o.Dimension, o.Dimension, 1f);
            Matrix(p + "attn_k.weight", o.Dimension, kvDim, 1f);
            Matrix(p + "attn_v.weight", o.Dimension, kvDim, 1f);
            Matrix(p + "attn_output.weight", o.Dimension, o.Dimension, residualScale);
            Norm(p + "ffn_norm.weight");
            Matrix(p + "ffn_gate.weight", o.Dimension, o.FeedForward, 1f);
            Matrix(p + "ffn_up.weight", o.Dimension, o.FeedForward, 1f);
            Matrix(p + "ffn_down.weight", o.FeedForward, o.Dimension, residualScale);
        }

        Norm("output_norm.weight");
        Matrix("output.weight", o.Dimension, o.Vocabulary, 4f);
        return writer;
    }

    /// <summary>SplitMix64: tiny, seedable, identical on every platform.</summary>
    private sealed class SplitMix64(ulong seed)
    {
        private ulong _state = seed;

        public float[] Normal(int count, float scale)
        {
            var values = new float[count];
            for (int i = 0; i < count; i += 2)
            {
                // Box-Muller on two uniforms in (0, 1].
                double u1 = (Next() >> 11) * (1.0 / (1UL << 53)) + (1.0 / (1UL << 54));
                double u2 = (Next() >> 11) * (1.0 / (1UL << 53));
                double radius = Math.Sqrt(-2.0 * Math.Log(u1));
                values[i] = (float)(radius * Math.Cos(2 * Math.PI * u2) * scale);
                if (i + 1 < count)
                {
                    values[i + 1] = (float)(radius * Math.Sin(2 * Math.PI * u2) * scale);
                }
            }

            return values;
        }

        public float[] NormVector(int count)
        {
            float[] noise = Normal(count, 0.1f);
            for (int i = 0; i < count; i++)
            {
                noise[i] += 1f;
            }

            return noise;
        }

        private ulong Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}

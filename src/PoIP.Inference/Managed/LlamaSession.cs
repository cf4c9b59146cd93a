using System.Numerics.Tensors;

namespace PoIP.Inference.Managed;

/// <summary>
/// One sequence of the managed forward pass: a KV cache and scratch buffers. After
/// <see cref="Step"/>, <see cref="Hidden"/> holds the final-norm hidden state and <see cref="Logits"/>
/// the logits of the position just processed. Not thread-safe.
/// </summary>
internal sealed class LlamaSession
{
    private readonly LlamaWeights _w;
    private readonly bool _halfCache;
    private readonly ParallelOptions _parallel;
    private readonly int _contextLength;
    private readonly int _kvDim;
    private readonly float[][] _keys;
    private readonly float[][] _values;
    private readonly float[] _x;
    private readonly float[] _xn;
    private readonly float[] _q;
    private readonly float[] _k;
    private readonly float[] _v;
    private readonly float[] _attention;
    private readonly float[] _projected;
    private readonly float[] _gate;
    private readonly float[] _up;
    private readonly float[] _scores;
    private readonly float[] _scratch;
    private readonly float[] _ropeCos;
    private readonly float[] _ropeSin;

    public LlamaSession(LlamaWeights weights, int contextLength, bool halfCache, ParallelOptions parallel)
    {
        _w = weights;
        _halfCache = halfCache;
        _parallel = parallel;
        _contextLength = contextLength;
        _kvDim = weights.KvHeadCount * weights.HeadDimension;
        _keys = new float[weights.LayerCount][];
        _values = new float[weights.LayerCount][];
        for (int l = 0; l < weights.LayerCount; l++)
        {
            _keys[l] = new float[contextLength * _kvDim];
            _values[l] = new float[contextLength * _kvDim];
        }

        int embd = weights.EmbeddingLength;
        _x = new float[embd];
        _xn = new float[embd];
        _q = new float[embd];
        _k = new float[_kvDim];
        _v = new float[_kvDim];
        _attention = new float[embd];
        _projected = new float[embd];
        _gate = new float[weights.FeedForwardLength];
        _up = new float[weights.FeedForwardLength];
        _scores = new float[contextLength];
        _scratch = new float[Math.Max(embd, weights.FeedForwardLength)];
        Hidden = new float[embd];
        Logits = new float[weights.VocabularySize];
        _ropeCos = new float[weights.RopeDimensions / 2];
        _ropeSin = new float[weights.RopeDimensions / 2];
    }

    /// <summary>Number of positions in the cache.</summary>
    public int Position { get; private set; }

    public int ContextLength => _contextLength;

    public float[] Hidden { get; }

    public float[] Logits { get; }

    /// <summary>Runs one token at the next position.</summary>
    public void Step(int token, bool computeLogits)
    {
        if (Position >= _contextLength)
        {
            throw new InvalidOperationException("The context is full.");
        }

        LlamaWeights w = _w;
        int pos = Position;
        int headDim = w.HeadDimension;
        int group = w.HeadCount / w.KvHeadCount;
        float scale = 1f / MathF.Sqrt(headDim);
        w.TokenEmbedding.Row(token).CopyTo(_x);
        PrepareRope(pos);
        for (int l = 0; l < w.LayerCount; l++)
        {
            LlamaLayer layer = w.Layers[l];
            RmsNorm(_x, layer.AttentionNorm, _xn);
            layer.Query.Multiply(_xn, _q, _scratch, _parallel);
            layer.Key.Multiply(_xn, _k, _scratch, _parallel);
            layer.Value.Multiply(_xn, _v, _scratch, _parallel);
            for (int h = 0; h < w.HeadCount; h++)
            {
                Rope(_q.AsSpan(h * headDim, headDim));
            }

            for (int h = 0; h < w.KvHeadCount; h++)
            {
                Rope(_k.AsSpan(h * headDim, headDim));
            }

            Span<float> keyRow = _keys[l].AsSpan(pos * _kvDim, _kvDim);
            Span<float> valueRow = _values[l].AsSpan(pos * _kvDim, _kvDim);
            _k.CopyTo(keyRow);
            _v.CopyTo(valueRow);
            if (_halfCache)
            {
                RoundToHalf(keyRow);
                RoundToHalf(valueRow);
                RoundToHalf(_q); // ggml converts the query to the cache type for the K·Q product
            }

            for (int h = 0; h < w.HeadCount; h++)
            {
                int kvOffset = h / group * headDim;
                ReadOnlySpan<float> q = _q.AsSpan(h * headDim, headDim);
                Span<float> scores = _scores.AsSpan(0, pos + 1);
                for (int t = 0; t <= pos; t++)
                {
                    scores[t] = TensorPrimitives.Dot(q, _keys[l].AsSpan((t * _kvDim) + kvOffset, headDim)) * scale;
                }

                Softmax(scores);
                if (_halfCache)
                {
                    RoundToHalf(scores); // ggml converts the attention weights to the cache type for V·softmax
                }

                Span<float> output = _attention.AsSpan(h * headDim, headDim);
                output.Clear();
                for (int t = 0; t <= pos; t++)
                {
                    TensorPrimitives.MultiplyAdd(_values[l].AsSpan((t * _kvDim) + kvOffset, headDim), scores[t], output, output);
                }
            }

            layer.AttentionOutput.Multiply(_attention, _projected, _scratch, _parallel);
            TensorPrimitives.Add(_x, _projected, _x);

            RmsNorm(_x, layer.FeedForwardNorm, _xn);
            layer.Gate.Multiply(_xn, _gate, _scratch, _parallel);
            layer.Up.Multiply(_xn, _up, _scratch, _parallel);
            for (int i = 0; i < _gate.Length; i++)
            {
                float g = _gate[i];
                _gate[i] = g / (1f + MathF.Exp(-g)) * _up[i];
            }

            layer.Down.Multiply(_gate, _projected, _scratch, _parallel);
            TensorPrimitives.Add(_x, _projected, _x);
        }

        RmsNorm(_x, w.OutputNorm, Hidden);
        if (computeLogits)
        {
            w.Output.Multiply(Hidden, Logits, _scratch, _parallel);
        }

        Position = pos + 1;
    }

    private static void RoundToHalf(Span<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(Half)values[i];
        }
    }

    private void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> output)
    {
        double sum = 0;
        foreach (float v in x)
        {
            sum += (double)v * v;
        }

        float mean = (float)(sum / x.Length);
        float inverse = 1f / MathF.Sqrt(mean + _w.RmsEpsilon);
        TensorPrimitives.Multiply(x, inverse, output);
        TensorPrimitives.Multiply(output, weight, output);
    }

    private static void Softmax(Span<float> scores)
    {
        float max = TensorPrimitives.Max(scores);
        double sum = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            float e = MathF.Exp(scores[i] - max);
            scores[i] = e;
            sum += e;
        }

        float inverse = (float)(1.0 / sum);
        TensorPrimitives.Multiply(scores, inverse, scores);
    }

    // llama.cpp's "normal" rope (the mode used for llama): adjacent pairs (x[2i], x[2i+1]) rotate by
    // pos·base^(-2i/n_rot); GGUF files converted by llama.cpp already hold Q/K rows permuted for it.
    private void PrepareRope(int pos)
    {
        float thetaScale = MathF.Pow(_w.RopeFrequencyBase, -2f / _w.RopeDimensions);
        float theta = pos;
        for (int i = 0; i < _ropeCos.Length; i++)
        {
            _ropeCos[i] = MathF.Cos(theta);
            _ropeSin[i] = MathF.Sin(theta);
            theta *= thetaScale;
        }
    }

    private void Rope(Span<float> head)
    {
        for (int i = 0; i < _ropeCos.Length; i++)
        {
            float x0 = head[2 * i];
            float x1 = head[(2 * i) + 1];
            head[2 * i] = (x0 * _ropeCos[i]) - (x1 * _ropeSin[i]);
            head[(2 * i) + 1] = (x0 * _ropeSin[i]) + (x1 * _ropeCos[i]);
        }
    }
}

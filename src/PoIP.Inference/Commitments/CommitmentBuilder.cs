using PoIP.Core.Engine;

namespace PoIP.Inference.Commitments;

/// <summary>
/// Builds an <see cref="ActivationCommitment"/> while an engine generates (or teacher-forces): pass it
/// as the <see cref="IActivationObserver"/>, then call <see cref="Build"/> with the receipt's binding.
/// All buffers are sized at construction from the token limit; <see cref="OnToken"/> allocates
/// nothing. The prompt is committed through the hidden state of its last position, reported by
/// <see cref="OnPrefill"/>. Not thread-safe; one builder per generation (reusable after <see cref="Reset"/>).
/// </summary>
public sealed class CommitmentBuilder : IActivationObserver
{
    private readonly CommitmentParameters _parameters;
    private readonly int _hiddenSize;
    private readonly int _maxTokens;
    private readonly ChunkAggregator _aggregator;
    private readonly int[] _selected;
    private readonly ushort[] _indices;
    private readonly ushort[] _values;
    private int _chunks;

    /// <summary>Creates a builder for a model of width <paramref name="hiddenSize"/> and at most <paramref name="maxTokens"/> output tokens.</summary>
    /// <exception cref="ArgumentException">The parameters are invalid for this width.</exception>
    public CommitmentBuilder(CommitmentParameters parameters, int hiddenSize, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        string? problem = parameters.Validate(hiddenSize);
        if (problem is not null)
        {
            throw new ArgumentException("Invalid commitment parameters: " + problem, nameof(parameters));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxTokens, Core.Protocol.InferenceRequest.MaxOutputTokens);
        _parameters = parameters;
        _hiddenSize = hiddenSize;
        _maxTokens = maxTokens;
        _aggregator = new ChunkAggregator(hiddenSize, parameters.Aggregation);
        _selected = new int[parameters.TopK];
        int capacity = (parameters.ChunkCount(maxTokens) + 1) * parameters.TopK;
        _indices = new ushort[capacity];
        _values = new ushort[capacity];
    }

    /// <summary>Creates a builder with the standard parameters for <paramref name="model"/> and <paramref name="maxTokens"/>.</summary>
    public static CommitmentBuilder ForModel(ModelDescriptor model, int maxTokens, CommitmentAggregation aggregation = CommitmentAggregation.Mean)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new CommitmentBuilder(CommitmentParameters.Standard(model.EmbeddingLength, maxTokens, aggregation), model.EmbeddingLength, maxTokens);
    }

    /// <summary>Prompt tokens reported by the engine, or -1 before the prefill.</summary>
    public int PromptTokenCount { get; private set; } = -1;

    /// <summary>Output tokens observed so far.</summary>
    public int TokenCount { get; private set; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The hidden state has the wrong width.</exception>
    public void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState)
    {
        if (lastHiddenState.Length != _hiddenSize)
        {
            throw new ArgumentException($"Expected a hidden state of {_hiddenSize} values, got {lastHiddenState.Length}.", nameof(lastHiddenState));
        }

        PromptTokenCount = promptTokenCount;
        Store(0, lastHiddenState, _parameters.PromptTopK);
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">Positions arrive out of order or beyond the token limit.</exception>
    /// <exception cref="ArgumentException">The hidden state has the wrong width.</exception>
    public void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits)
    {
        if (index != TokenCount || index >= _maxTokens)
        {
            throw new InvalidOperationException($"Output position {index} arrived; expected {TokenCount} (limit {_maxTokens}).");
        }

        _aggregator.Add(hiddenState);
        TokenCount++;
        if (_aggregator.Count == _parameters.ChunkSize)
        {
            CloseChunk();
        }
    }

    /// <summary>Closes the last partial chunk and encodes the commitment under <paramref name="binding"/>.</summary>
    /// <exception cref="InvalidOperationException">The engine never reported the prefill.</exception>
    public ActivationCommitment Build(in CommitmentBinding binding)
    {
        if (PromptTokenCount < 0)
        {
            throw new InvalidOperationException("The engine did not report the prompt's hidden state (OnPrefill).");
        }

        if (_aggregator.Count > 0)
        {
            CloseChunk();
        }

        var digest = binding.ComputeDigest();
        var coefficients = new ushort[(_parameters.EncodedLength(TokenCount) - ActivationCommitment.HeaderLength(TokenCount)) / 2];
        int k = _parameters.TopK;
        var ys = new uint[k];
        var scratch = new uint[(2 * k) + 1];
        int offset = 0;
        for (int c = 0; c <= _chunks; c++)
        {
            int kc = c == 0 ? _parameters.PromptTopK : _parameters.TopKForChunk(_parameters.TokensInChunk(c - 1, TokenCount));
            ulong key = CommitmentBinding.ChunkKey(digest, c);
            ReadOnlySpan<ushort> xs = _indices.AsSpan(c * k, kc);
            ReadOnlySpan<ushort> values = _values.AsSpan(c * k, kc);
            for (int i = 0; i < kc; i++)
            {
                ys[i] = PrimeField.Add(values[i], CommitmentBinding.Mask(key, xs[i]));
            }

            PrimeField.Interpolate(xs, ys.AsSpan(0, kc), coefficients.AsSpan(offset, kc), scratch);
            offset += kc;
        }

        return new ActivationCommitment(_parameters, _hiddenSize, TokenCount, coefficients);
    }

    /// <summary>Forgets everything observed, for another generation with the same limits.</summary>
    public void Reset()
    {
        _aggregator.Reset();
        TokenCount = 0;
        PromptTokenCount = -1;
        _chunks = 0;
    }

    private void CloseChunk()
    {
        int tokensInChunk = _aggregator.Count;
        ReadOnlySpan<float> summary = _aggregator.Complete();
        _chunks++;
        Store(_chunks, summary, _parameters.TopKForChunk(tokensInChunk));
    }

    // Slot 0 holds the prompt, slot c + 1 output chunk c.
    private void Store(int slot, ReadOnlySpan<float> summary, int k)
    {
        Span<int> selected = _selected.AsSpan(0, k);
        TopKSelector.Select(summary, selected);
        int baseIndex = slot * _parameters.TopK;
        for (int i = 0; i < k; i++)
        {
            int index = selected[i];
            _indices[baseIndex + i] = (ushort)index;
            _values[baseIndex + i] = HalfBits.FromSingle(summary[index]);
        }
    }
}

namespace PoIP.Inference.Commitments;

/// <summary>
/// Summarises the hidden states of consecutive output positions chunk by chunk (mean in double
/// precision, or the last position), identically on the node and on the verifier. Allocation-free
/// after construction.
/// </summary>
internal sealed class ChunkAggregator
{
    private readonly double[] _sum;
    private readonly float[] _vector;
    private readonly CommitmentAggregation _aggregation;

    public ChunkAggregator(int hiddenSize, CommitmentAggregation aggregation)
    {
        _sum = new double[hiddenSize];
        _vector = new float[hiddenSize];
        _aggregation = aggregation;
    }

    /// <summary>Positions added to the current chunk.</summary>
    public int Count { get; private set; }

    public void Add(ReadOnlySpan<float> hiddenState)
    {
        if (hiddenState.Length != _sum.Length)
        {
            throw new ArgumentException($"Expected a hidden state of {_sum.Length} values, got {hiddenState.Length}.", nameof(hiddenState));
        }

        if (_aggregation == CommitmentAggregation.LastPosition)
        {
            hiddenState.CopyTo(_vector);
        }
        else
        {
            double[] sum = _sum;
            for (int i = 0; i < sum.Length; i++)
            {
                sum[i] += hiddenState[i];
            }
        }

        Count++;
    }

    /// <summary>Closes the current chunk and returns its summary (valid until the next call).</summary>
    public ReadOnlySpan<float> Complete()
    {
        if (Count == 0)
        {
            throw new InvalidOperationException("The chunk is empty.");
        }

        if (_aggregation == CommitmentAggregation.Mean)
        {
            double scale = 1.0 / Count;
            for (int i = 0; i < _sum.Length; i++)
            {
                _vector[i] = (float)(_sum[i] * scale);
            }

            Array.Clear(_sum);
        }

        Count = 0;
        return _vector;
    }

    public void Reset()
    {
        Array.Clear(_sum);
        Count = 0;
    }
}

using PoIP.Core.Hashing;

namespace PoIP.Inference.Commitments;

/// <summary>
/// The verifier's side of a commitment: fed the hidden state of every output position of a
/// teacher-forced re-execution in order, it summarises each chunk exactly as the node's
/// <see cref="CommitmentBuilder"/> did, takes its own top-k, evaluates the committed polynomial at
/// those indices (removing the binding mask) and compares values under <see cref="CommitmentThresholds"/>.
/// The prompt's polynomial is compared by <see cref="SetPrompt"/> (reported as chunk −1).
/// Allocation-free per position. Not thread-safe.
/// </summary>
public sealed class CommitmentComparer
{
    private readonly ActivationCommitment _commitment;
    private readonly Sha256Digest _digest;
    private readonly CommitmentThresholds _thresholds;
    private readonly ChunkAggregator _aggregator;
    private readonly int[] _selected;
    private readonly double[] _errors;
    private readonly ChunkComparison[] _results;
    private int _positions;

    /// <summary>Creates a comparer for <paramref name="commitment"/> signed under <paramref name="binding"/>.</summary>
    public CommitmentComparer(ActivationCommitment commitment, in CommitmentBinding binding, CommitmentThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(commitment);
        ArgumentNullException.ThrowIfNull(thresholds);
        thresholds.EnsureValid();
        _commitment = commitment;
        _digest = binding.ComputeDigest();
        _thresholds = thresholds;
        _aggregator = new ChunkAggregator(commitment.HiddenSize, commitment.Parameters.Aggregation);
        _selected = new int[commitment.Parameters.TopK];
        _errors = new double[commitment.Parameters.TopK];
        _results = new ChunkComparison[commitment.ChunkCount + 1];
    }

    /// <summary>Width of the hidden states compared.</summary>
    public int HiddenSize => _commitment.HiddenSize;

    /// <summary>
    /// True when the prompt and every chunk have been compared and every compared value matched bit for
    /// bit: the verifier computed exactly what the node committed to.
    /// </summary>
    public bool IsExact
    {
        get
        {
            if (!IsComplete)
            {
                return false;
            }

            foreach (var result in Results)
            {
                if (!result.IsExact)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>Polynomials compared so far (the prompt's, then one per output chunk).</summary>
    public int CompletedChunks { get; private set; }

    /// <summary>Results so far: the prompt's first, then the output chunks in order.</summary>
    public ReadOnlySpan<ChunkComparison> Results => _results.AsSpan(0, CompletedChunks);

    /// <summary>True when the prompt and every chunk have been compared.</summary>
    public bool IsComplete => CompletedChunks == _commitment.ChunkCount + 1;

    /// <summary>Compares the prompt polynomial with the hidden state of the prompt's last position; call once, before <see cref="Add"/>.</summary>
    /// <exception cref="InvalidOperationException">Called twice or after <see cref="Add"/>.</exception>
    public void SetPrompt(ReadOnlySpan<float> lastHiddenState)
    {
        if (CompletedChunks != 0)
        {
            throw new InvalidOperationException("The prompt is compared first, once.");
        }

        if (lastHiddenState.Length != _commitment.HiddenSize)
        {
            throw new ArgumentException($"Expected a hidden state of {_commitment.HiddenSize} values.", nameof(lastHiddenState));
        }

        CompareSummary(lastHiddenState, _commitment.Parameters.PromptTopK, -1, 0);
    }

    /// <summary>The first failing chunk, or null.</summary>
    public ChunkComparison? FirstFailure
    {
        get
        {
            foreach (var result in Results)
            {
                if (!result.Passed)
                {
                    return result;
                }
            }

            return null;
        }
    }

    /// <summary>Adds the hidden state of the next output position.</summary>
    /// <exception cref="InvalidOperationException">More positions than the commitment covers.</exception>
    public void Add(ReadOnlySpan<float> hiddenState)
    {
        if (_positions >= _commitment.OutputTokenCount || CompletedChunks == 0)
        {
            throw new InvalidOperationException("More output positions than the commitment covers, or the prompt was not compared first.");
        }

        _aggregator.Add(hiddenState);
        _positions++;
        var parameters = _commitment.Parameters;
        if (_aggregator.Count == parameters.ChunkSize || _positions == _commitment.OutputTokenCount)
        {
            CompareChunk();
        }
    }

    private void CompareChunk()
    {
        int chunk = CompletedChunks - 1;
        int tokensInChunk = _aggregator.Count;
        ReadOnlySpan<float> summary = _aggregator.Complete();
        var parameters = _commitment.Parameters;
        CompareSummary(summary, parameters.TopKForChunk(tokensInChunk), chunk, chunk * parameters.ChunkSize);
    }

    private void CompareSummary(ReadOnlySpan<float> summary, int k, int chunk, int firstPosition)
    {
        int polynomial = chunk + 1;
        Span<int> selected = _selected.AsSpan(0, k);
        TopKSelector.Select(summary, selected);
        ReadOnlySpan<ushort> coefficients = _commitment.Polynomial(polynomial);
        ulong key = CommitmentBinding.ChunkKey(_digest, polynomial);
        Span<double> errors = _errors.AsSpan(0, k);
        int mismatches = 0, exact = 0;
        for (int i = 0; i < k; i++)
        {
            int index = selected[i];
            uint bits = PrimeField.Sub(PrimeField.Evaluate(coefficients, (uint)index), CommitmentBinding.Mask(key, index));
            double verifier = summary[index];
            exact += bits == HalfBits.FromSingle(summary[index]) ? 1 : 0;
            double error = double.PositiveInfinity;
            if (HalfBits.IsFinite(bits) && double.IsFinite(verifier))
            {
                double committed = HalfBits.ToSingle(bits);
                bool signsDiffer = (committed < 0 && verifier > 0) || (committed > 0 && verifier < 0);
                double relative = Math.Abs(committed - verifier) / Math.Max(Math.Abs(verifier), _thresholds.ValueFloor);
                if (!signsDiffer && relative <= _thresholds.GrossRelativeError)
                {
                    error = relative;
                }
            }

            if (double.IsPositiveInfinity(error))
            {
                mismatches++;
            }

            errors[i] = error;
        }

        errors.Sort();
        double median = errors[k / 2];
        int kept = k - (int)Math.Floor(_thresholds.MaxMismatchFraction * k);
        double trimmed = 0;
        for (int i = 0; i < kept; i++)
        {
            trimmed += errors[i];
        }

        trimmed = kept > 0 ? trimmed / kept : 0;
        bool passed = mismatches <= _thresholds.MaxMismatchFraction * k
            && median <= _thresholds.MaxMedianRelativeError
            && trimmed <= _thresholds.MaxTrimmedMeanRelativeError;
        _results[polynomial] = new ChunkComparison(chunk, firstPosition, k, mismatches, median, trimmed, passed, exact);
        CompletedChunks++;
    }
}

using PoIP.Core.Protocol;

namespace PoIP.Inference.Sampling;

/// <summary>
/// PoIP's managed sampler (Inference Engine Standard). Deterministic: the same logits, parameters,
/// seed, position and history give the same token on every machine. Not thread-safe; one per sequence.
/// </summary>
/// <remarks>
/// Fixed order of operations (see docs/engine-standard.md):
/// <list type="number">
/// <item>Repetition penalty: every distinct token among the last <see cref="SamplingParameters.RepetitionWindow"/>
/// entries of the history has its logit divided by the penalty when positive, multiplied when negative.</item>
/// <item>Greedy (temperature 0): the arg-max of the penalised logits, lowest index on ties.</item>
/// <item>Candidates are ordered by penalised logit, descending, lowest index first on ties; top-k keeps the first k.</item>
/// <item>Softmax of <c>logit / temperature</c> over the candidates, in double precision with a portable exp.</item>
/// <item>Top-p keeps the shortest prefix whose probability mass reaches p (at least one token); min-p drops
/// tokens whose probability is below <c>min_p × p_max</c>; tokens of probability 0 are dropped.</item>
/// <item>Draw: the kept candidates are laid out in <b>token-id order</b> and
/// <c>u = SamplerRandom.Uniform(seed, position)</c> picks the first whose cumulative mass exceeds
/// <c>u × total</c>. Id order (not probability order) matters for verification: logits recomputed on
/// another machine or by teacher forcing differ by rounding noise, which can swap the rank of two
/// nearly equal tokens; in probability order that swap moves whole intervals and flips choices far
/// from any boundary, in id order it only moves each boundary by the noise, so a choice can flip
/// only between two id-adjacent candidates when <c>u</c> lies within the noise of their common boundary.</item>
/// </list>
/// Nothing is allocated per call: buffers are sized to the vocabulary once.
/// </remarks>
public sealed class TokenSampler : PoIP.Inference.Verification.ISequenceSampler
{
    private readonly int _vocabularySize;
    private readonly float[] _penalised;
    private readonly int[] _seenStamp;
    private readonly ulong[] _keys;
    private readonly double[] _probabilities;
    private readonly int[] _drawIds;
    private readonly double[] _drawMass;
    private int _stamp;

    /// <summary>Creates a sampler for a vocabulary of <paramref name="vocabularySize"/> tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The size is not positive.</exception>
    public TokenSampler(int vocabularySize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        _vocabularySize = vocabularySize;
        _penalised = new float[vocabularySize];
        _seenStamp = new int[vocabularySize];
        _keys = new ulong[vocabularySize];
        _probabilities = new double[vocabularySize];
        _drawIds = new int[vocabularySize];
        _drawMass = new double[vocabularySize];
    }

    /// <summary>The vocabulary size this sampler was made for.</summary>
    public int VocabularySize => _vocabularySize;

    /// <summary>
    /// Picks the token for output position <paramref name="position"/> from <paramref name="logits"/>;
    /// <paramref name="history"/> = prompt + output so far (for the repetition penalty).
    /// Greedy (temperature 0) = arg-max with lowest-index tie-break.
    /// </summary>
    /// <exception cref="ArgumentException">The logits do not match the vocabulary, or the parameters are invalid.</exception>
    public int Sample(ReadOnlySpan<float> logits, SamplingParameters parameters, ulong seed, int position, ReadOnlySpan<int> history)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (logits.Length != _vocabularySize)
        {
            throw new ArgumentException($"expected {_vocabularySize} logits, got {logits.Length}.", nameof(logits));
        }

        string? problem = parameters.Validate();
        if (problem is not null)
        {
            throw new ArgumentException("Invalid sampling parameters: " + problem, nameof(parameters));
        }

        ReadOnlySpan<float> scores = ApplyPenalty(logits, parameters, history);
        if (parameters.IsGreedy)
        {
            return ArgMax(scores);
        }

        int count = SelectCandidates(scores, parameters.TopK);
        return Draw(scores, count, parameters, SamplerRandom.Uniform(seed, position));
    }

    /// <summary>
    /// Whether the seeded draw point of this position lies within <paramref name="tolerance"/> (a
    /// fraction of the kept probability mass) of <paramref name="claimed"/>'s interval in the draw,
    /// laid out in token-id order. Rounding noise between a node's decode and a verifier's prefill
    /// moves every interval by the summed change of all lower-id candidates' masses; this bounds how
    /// far. False for greedy decoding and for a claim outside the kept candidates.
    /// </summary>
    public bool IsNearDraw(ReadOnlySpan<float> logits, SamplingParameters parameters, ulong seed, int position, ReadOnlySpan<int> history, int claimed, double tolerance)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (logits.Length != _vocabularySize || parameters.Validate() is not null || parameters.IsGreedy || !(tolerance >= 0))
        {
            return false;
        }

        ReadOnlySpan<float> scores = ApplyPenalty(logits, parameters, history);
        int count = PrepareDraw(scores, SelectCandidates(scores, parameters.TopK), parameters, out double total);
        if (count == 0)
        {
            return false;
        }

        double point = SamplerRandom.Uniform(seed, position) * total;
        double low = 0;
        for (int i = 0; i < count; i++)
        {
            double high = low + _drawMass[i];
            if (_drawIds[i] == claimed)
            {
                return point >= low - (tolerance * total) && point <= high + (tolerance * total);
            }

            low = high;
        }

        return false;
    }

    /// <summary>Arg-max with the lowest index winning ties; NaN never wins.</summary>
    internal static int ArgMax(ReadOnlySpan<float> scores)
    {
        int best = 0;
        uint bestKey = DeterministicMath.DescendingKey(scores[0]);
        for (int i = 1; i < scores.Length; i++)
        {
            uint key = DeterministicMath.DescendingKey(scores[i]);
            if (key < bestKey)
            {
                bestKey = key;
                best = i;
            }
        }

        return best;
    }

    private ReadOnlySpan<float> ApplyPenalty(ReadOnlySpan<float> logits, SamplingParameters parameters, ReadOnlySpan<int> history)
    {
        float penalty = parameters.RepetitionPenalty;
        int window = Math.Min(parameters.RepetitionWindow, history.Length);
        if (penalty == 1f || window == 0)
        {
            return logits;
        }

        logits.CopyTo(_penalised);
        if (++_stamp == int.MaxValue)
        {
            Array.Clear(_seenStamp);
            _stamp = 1;
        }

        foreach (int token in history[^window..])
        {
            if ((uint)token >= (uint)_vocabularySize || _seenStamp[token] == _stamp)
            {
                continue;
            }

            _seenStamp[token] = _stamp;
            float value = _penalised[token];
            _penalised[token] = value > 0f ? value / penalty : value * penalty;
        }

        return _penalised;
    }

    /// <summary>Fills <c>_keys[0..count)</c> with the best candidates, sorted; a key is (descending logit, index).</summary>
    private int SelectCandidates(ReadOnlySpan<float> scores, int topK)
    {
        int n = scores.Length;
        int k = topK <= 0 || topK >= n ? n : topK;
        if (k == n)
        {
            for (int i = 0; i < n; i++)
            {
                _keys[i] = MakeKey(scores[i], i);
            }

            Array.Sort(_keys, 0, n);
            return n;
        }

        // Keep the k smallest keys in a max-heap, then sort them.
        var heap = _keys.AsSpan(0, k);
        for (int i = 0; i < k; i++)
        {
            heap[i] = MakeKey(scores[i], i);
        }

        for (int i = (k / 2) - 1; i >= 0; i--)
        {
            SiftDown(heap, i);
        }

        for (int i = k; i < n; i++)
        {
            ulong key = MakeKey(scores[i], i);
            if (key < heap[0])
            {
                heap[0] = key;
                SiftDown(heap, 0);
            }
        }

        Array.Sort(_keys, 0, k);
        return k;
    }

    private static ulong MakeKey(float score, int index) => ((ulong)DeterministicMath.DescendingKey(score) << 32) | (uint)index;

    private static void SiftDown(Span<ulong> heap, int i)
    {
        while (true)
        {
            int left = (2 * i) + 1;
            if (left >= heap.Length)
            {
                return;
            }

            int largest = left + 1 < heap.Length && heap[left + 1] > heap[left] ? left + 1 : left;
            if (heap[largest] <= heap[i])
            {
                return;
            }

            (heap[i], heap[largest]) = (heap[largest], heap[i]);
            i = largest;
        }
    }

    private int Draw(ReadOnlySpan<float> scores, int count, SamplingParameters parameters, double uniform)
    {
        count = PrepareDraw(scores, count, parameters, out double total);
        if (count == 0)
        {
            return Index(0);
        }

        double threshold2 = uniform * total;
        double cumulative = 0;
        for (int i = 0; i < count; i++)
        {
            cumulative += _drawMass[i];
            if (cumulative > threshold2)
            {
                return _drawIds[i];
            }
        }

        return _drawIds[count - 1];
    }

    /// <summary>Applies temperature, top-p and min-p and lays the kept candidates out in token-id order; 0 when there is no distribution.</summary>
    private int PrepareDraw(ReadOnlySpan<float> scores, int count, SamplingParameters parameters, out double total)
    {
        total = 0;
        double inverseTemperature = 1.0 / parameters.Temperature;
        double max = Score(scores, 0);
        if (double.IsNegativeInfinity(max) || double.IsNaN(max))
        {
            // Every logit is -inf/NaN: no distribution; the draw falls back to the first candidate (deterministic).
            return 0;
        }

        for (int i = 0; i < count; i++)
        {
            double p = DeterministicMath.ExpNonPositive((Score(scores, i) - max) * inverseTemperature);
            _probabilities[i] = p;
            total += p;
        }

        // Top-p: shortest prefix reaching the mass (the list is sorted by probability, descending).
        if (parameters.TopP < 1f)
        {
            double target = parameters.TopP * total;
            double running = 0;
            int keep = count;
            for (int i = 0; i < count; i++)
            {
                running += _probabilities[i];
                if (running >= target)
                {
                    keep = i + 1;
                    break;
                }
            }

            count = keep;
        }

        // Min-p relative to the best (which has probability exp(0) = 1 before normalisation).
        if (parameters.MinP > 0f)
        {
            double threshold = parameters.MinP * _probabilities[0];
            int keep = 1;
            while (keep < count && _probabilities[keep] >= threshold)
            {
                keep++;
            }

            count = keep;
        }

        // Drop trailing zero-probability candidates (sorted, so zeros are at the end).
        while (count > 1 && _probabilities[count - 1] == 0.0)
        {
            count--;
        }

        // Lay the kept candidates out in token-id order (see the remarks), then draw.
        for (int i = 0; i < count; i++)
        {
            _drawIds[i] = Index(i);
            _drawMass[i] = _probabilities[i];
        }

        Array.Sort(_drawIds, _drawMass, 0, count);
        total = 0;
        for (int i = 0; i < count; i++)
        {
            total += _drawMass[i];
        }

        return count;
    }

    private double Score(ReadOnlySpan<float> scores, int candidate) => scores[Index(candidate)];

    private int Index(int candidate) => (int)(uint)_keys[candidate];
}

using PoIP.Core.Protocol;

namespace PoIP.Inference.Commitments;

/// <summary>
/// The commitment part of the Inference Engine Standard: how many hidden-state entries are committed
/// per chunk of output tokens, and how a chunk is summarised. Both sides derive them with
/// <see cref="Standard"/> from the model width and the request's token limit, so a node cannot pick
/// weaker parameters.
/// </summary>
public sealed record CommitmentParameters
{
    /// <summary>
    /// Default entries per full chunk: 60, so a full chunk of 32 tokens costs 120 bytes (3.75 B/token) and a
    /// commitment to 256 or more tokens stays below 4 B/token with the fixed 42 bytes (format v2; v1 had
    /// TOPLOC's 128). Measured to keep the whole detection matrix (docs/proofs.md, section 1a).
    /// </summary>
    public const int DefaultTopK = 60;

    /// <summary>Default output tokens per chunk.</summary>
    public const int DefaultChunkSize = 32;

    /// <summary>Largest k accepted.</summary>
    public const int MaxTopK = 1024;

    /// <summary>Largest chunk accepted.</summary>
    public const int MaxChunkSize = 1 << 15;

    /// <summary>Widest hidden state accepted: indices must be distinct elements of GF(65521).</summary>
    public const int MaxHiddenSize = (int)PrimeField.P - 1;

    /// <summary>Smallest k of a partial last chunk (before capping at <see cref="TopK"/>).</summary>
    public const int MinPartialTopK = 16;

    /// <summary>Entries committed per full chunk.</summary>
    public required int TopK { get; init; }

    /// <summary>Output tokens per chunk.</summary>
    public required int ChunkSize { get; init; }

    /// <summary>How a chunk is summarised.</summary>
    public CommitmentAggregation Aggregation { get; init; } = CommitmentAggregation.Mean;

    /// <summary>
    /// The standard parameters for a model of width <paramref name="hiddenSize"/> and a request for at
    /// most <paramref name="maxTokens"/> tokens: k = min(60, hiddenSize / 2), chunks of 32 tokens,
    /// doubled until the largest possible commitment fits <see cref="InferenceReceipt.MaxCommitmentLength"/>.
    /// </summary>
    /// <param name="hiddenSize">The model width.</param>
    /// <param name="maxTokens">The request's token limit.</param>
    /// <param name="aggregation">The chunk summary (the standard is <see cref="CommitmentAggregation.Mean"/>; the other is for calibration).</param>
    /// <exception cref="ArgumentOutOfRangeException">The width or the token limit is out of range.</exception>
    public static CommitmentParameters Standard(int hiddenSize, int maxTokens, CommitmentAggregation aggregation = CommitmentAggregation.Mean)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hiddenSize, MaxHiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxTokens, InferenceRequest.MaxOutputTokens);
        var parameters = new CommitmentParameters { TopK = Math.Min(DefaultTopK, hiddenSize / 2), ChunkSize = DefaultChunkSize, Aggregation = aggregation };
        while (parameters.EncodedLength(maxTokens) > InferenceReceipt.MaxCommitmentLength)
        {
            parameters = parameters with { ChunkSize = parameters.ChunkSize * 2 };
        }

        return parameters;
    }

    /// <summary>Returns the first problem with these parameters for a model of width <paramref name="hiddenSize"/>, or null.</summary>
    public string? Validate(int hiddenSize)
    {
        if (hiddenSize is < 2 or > MaxHiddenSize)
        {
            return $"hidden size must be in [2, {MaxHiddenSize}], got {hiddenSize}.";
        }

        if (TopK < 1 || TopK > MaxTopK || TopK > hiddenSize)
        {
            return $"top-k must be in [1, min({MaxTopK}, hidden size)], got {TopK}.";
        }

        if (ChunkSize is < 1 or > MaxChunkSize)
        {
            return $"chunk size must be in [1, {MaxChunkSize}], got {ChunkSize}.";
        }

        return Aggregation is CommitmentAggregation.LastPosition or CommitmentAggregation.Mean ? null : "unknown aggregation.";
    }

    /// <summary>Number of chunks covering <paramref name="outputTokens"/> tokens.</summary>
    public int ChunkCount(int outputTokens) => (int)(((long)outputTokens + ChunkSize - 1) / ChunkSize);

    /// <summary>Tokens in chunk <paramref name="chunk"/> of an output of <paramref name="outputTokens"/> tokens.</summary>
    public int TokensInChunk(int chunk, int outputTokens) => (int)Math.Min(ChunkSize, outputTokens - ((long)chunk * ChunkSize));

    /// <summary>
    /// Entries committed for a chunk of <paramref name="tokensInChunk"/> tokens: k for a full chunk; for
    /// a partial last chunk k scaled by its length (at least 16), so bytes per token stay ≈ 2k / C.
    /// </summary>
    public int TopKForChunk(int tokensInChunk)
    {
        if (tokensInChunk >= ChunkSize)
        {
            return TopK;
        }

        int scaled = (int)(((long)TopK * tokensInChunk + ChunkSize - 1) / ChunkSize);
        return Math.Min(TopK, Math.Max(MinPartialTopK, scaled));
    }

    /// <summary>
    /// Entries committed for the prompt: the hidden state of the prompt's last position, treated as a
    /// chunk of one position (so min(k, 16)).
    /// </summary>
    public int PromptTopK => TopKForChunk(1);

    /// <summary>Exact encoded length of a commitment to <paramref name="outputTokens"/> tokens.</summary>
    public int EncodedLength(int outputTokens)
    {
        long length = ActivationCommitment.HeaderLength(outputTokens) + (2L * PromptTopK);
        int chunks = ChunkCount(outputTokens);
        for (int c = 0; c < chunks; c++)
        {
            length += 2L * TopKForChunk(TokensInChunk(c, outputTokens));
        }

        return (int)Math.Min(length, int.MaxValue);
    }
}

using PoIP.Core.Engine;
using PoIP.Inference.Commitments;

namespace PoIP.Inference.Verification;

/// <summary>Options of <see cref="ReexecutionVerifier"/>. Thresholds and slack are placeholders pending calibration on real engines (docs/proofs.md).</summary>
public sealed record ReexecutionVerifierOptions
{
    /// <summary>
    /// Creates the sampler for one sequence from the vocabulary size. Default: PoIP's standard
    /// <see cref="Sampling.TokenSampler"/> (replace only to test the verifier itself).
    /// </summary>
    public Func<int, ISequenceSampler> SamplerFactory { get; init; } = vocabulary => new Sampling.TokenSampler(vocabulary);

    /// <summary>Activation comparison thresholds.</summary>
    public CommitmentThresholds Thresholds { get; init; } = CommitmentThresholds.Default;

    /// <summary>
    /// Sampling slack ε, in temperature-scaled logit units (raw logit units when greedy). When the
    /// verifier's sampler picks token v but the receipt claims c, the claim is still accepted when the
    /// same sampler, with the same seed, position and history, picks c from the verifier's logits
    /// with c's logit raised by Δ and v's lowered by Δ, where Δ = ε·T (ε when T = 0): that is, when a
    /// logit disagreement of at most Δ between node and verifier explains the difference. 0 disables.
    /// </summary>
    public float SamplingSlack { get; init; } = 0.05f;

    /// <summary>Most positions of one receipt that may use the slack: max(<see cref="MinSlackPositions"/>, ⌊fraction·n⌋). Range [0, 1].</summary>
    public double MaxSlackFraction { get; init; } = 0.02;

    /// <summary>
    /// Positions of any receipt that may use the slack however short it is. Default 2: the real-engine
    /// matrix measured honest 25-token receipts that needed it twice (docs/proofs.md). Range [0, 64].
    /// </summary>
    public int MinSlackPositions { get; init; } = 2;

    /// <summary>
    /// Whether the receipt's engine identity is comparable with the verifier's. Default: equal in
    /// everything but the prefill micro-batch size.
    /// </summary>
    public Func<EngineIdentity, EngineIdentity, bool> EngineCompatibility { get; init; } = DefaultEngineCompatibility;

    /// <summary>The chunk summary the standard requires (<see cref="CommitmentAggregation.Mean"/>; change only to calibrate the alternative).</summary>
    public CommitmentAggregation Aggregation { get; init; } = CommitmentAggregation.Mean;

    /// <summary>
    /// When a disputed teacher-forced check is settled by replaying the node's decoding step by step on an engine
    /// that implements <see cref="IDecodingReplay"/> (docs/proofs.md §2). Default
    /// <see cref="DecodingReplayPolicy.WhenDisputed"/>.
    /// </summary>
    public DecodingReplayPolicy DecodingReplay { get; init; } = DecodingReplayPolicy.WhenDisputed;

    /// <summary>
    /// Whether an engine of the verifier's identity (second argument) replays the decoding of the
    /// receipt's identity (first) bit for bit, so that a replay is judged with no slack even when the
    /// node's commitment does not match it exactly (a node must not be able to buy the slack by
    /// spoiling its own commitment). Default <see cref="DefaultBitExactReplay"/>.
    /// </summary>
    public Func<EngineIdentity, EngineIdentity, bool> BitExactReplay { get; init; } = DefaultBitExactReplay;

    /// <summary>
    /// Whether the verifier's teacher-forced prefill (second argument: the verifier's identity) computes the
    /// decoding of the receipt's identity (first) bit for bit, so that the prefill is judged like an exact
    /// replay: no slack, and no replay needed (docs/proofs.md §9b, session 7). The verifier also requires
    /// its engine to report such a prefill for the model at hand (llama.cpp: K-quant weights only). Not
    /// used under <see cref="DecodingReplayPolicy.Always"/> (a measurement policy). Default <see cref="DefaultBitExactPrefill"/>.
    /// </summary>
    public Func<EngineIdentity, EngineIdentity, bool> BitExactPrefill { get; init; } = DefaultBitExactPrefill;

    /// <summary>
    /// Under <see cref="DecodingReplayPolicy.WhenDisputed"/>, a receipt the teacher-forced check judged valid is
    /// replayed too when some chunk's trimmed-mean relative error exceeds this value: activations inside the
    /// fraud thresholds but above what an honest prefill shows (a KV cache cheaper than the identity claims,
    /// docs/proofs.md §7c). Costs only validator time: a replay of an honest node on a bit-exact identity
    /// reproduces its tokens. Default +∞ (off); <see cref="VerifierCalibration.CalibratedOptions"/> sets it per weight type.
    /// </summary>
    public double ReplayAboveTrimmedMeanError { get; init; } = double.PositiveInfinity;

    /// <summary>Context length for judging <see cref="StopReason.ContextFull"/>; null = the model's trained context length.</summary>
    public int? ContextLength { get; init; }

    /// <summary>The default compatibility rule: equal in everything but <see cref="EngineIdentity.Ubatch"/>.</summary>
    public static bool DefaultEngineCompatibility(EngineIdentity claimed, EngineIdentity verifier)
    {
        ArgumentNullException.ThrowIfNull(claimed);
        ArgumentNullException.ThrowIfNull(verifier);
        return claimed with { Ubatch = 0 } == verifier with { Ubatch = 0 };
    }

    /// <summary>
    /// The default bit-exactness rule: the CPU backend with an identity equal in everything but
    /// <see cref="EngineIdentity.Ubatch"/> (the replay reproduces the node's prompt micro-batches). Measured:
    /// llama.cpp CPU decoding replays bit for bit across thread counts and micro-batch sizes
    /// (docs/proofs.md §2), and the known-answer test gates every node on exact activation digests.
    /// GPU backends are not assumed exact (kernels differ between devices of one backend).
    /// </summary>
    public static bool DefaultBitExactReplay(EngineIdentity claimed, EngineIdentity verifier)
    {
        ArgumentNullException.ThrowIfNull(claimed);
        ArgumentNullException.ThrowIfNull(verifier);
        return claimed.Backend == "cpu" && claimed with { Ubatch = 0 } == verifier with { Ubatch = 0 };
    }

    /// <summary>
    /// The default prefill-exactness rule, measured on llama.cpp c0c7e147's CPU backend (docs/proofs.md §9b,
    /// session 7): <see cref="DefaultBitExactReplay"/> holds, weight repacking off (CPU variant
    /// <c>…-norepack</c>), flash attention on, F16 KV cache, and both micro-batches at most 63 (the node's
    /// prompt prefill and the verifier's teacher forcing: from 64 rows on, flash attention takes a tiled path).
    /// </summary>
    public static bool DefaultBitExactPrefill(EngineIdentity claimed, EngineIdentity verifier)
    {
        ArgumentNullException.ThrowIfNull(claimed);
        ArgumentNullException.ThrowIfNull(verifier);
        return DefaultBitExactReplay(claimed, verifier) && claimed.Engine == "llama.cpp" && claimed.FlashAttention && claimed.KvCacheType == "f16"
            && claimed.CpuVariant.EndsWith(Llama.LlamaInferenceEngine.NoRepackSuffix, StringComparison.Ordinal)
            && claimed.Ubatch is >= 1 and <= Llama.LlamaInferenceEngine.MaxExactPrefillMicroBatch
            && verifier.Ubatch is >= 1 and <= Llama.LlamaInferenceEngine.MaxExactPrefillMicroBatch;
    }

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void EnsureValid()
    {
        ArgumentNullException.ThrowIfNull(SamplerFactory);
        ArgumentNullException.ThrowIfNull(Thresholds);
        ArgumentNullException.ThrowIfNull(EngineCompatibility);
        ArgumentNullException.ThrowIfNull(BitExactReplay);
        ArgumentNullException.ThrowIfNull(BitExactPrefill);
        Thresholds.EnsureValid();
        if (!float.IsFinite(SamplingSlack) || SamplingSlack < 0)
        {
            throw new ArgumentException("Sampling slack must be finite and non-negative.", nameof(SamplingSlack));
        }

        if (!double.IsFinite(MaxSlackFraction) || MaxSlackFraction is < 0 or > 1)
        {
            throw new ArgumentException("Max slack fraction must be in [0, 1].", nameof(MaxSlackFraction));
        }

        if (MinSlackPositions is < 0 or > 64)
        {
            throw new ArgumentException("Min slack positions must be in [0, 64].", nameof(MinSlackPositions));
        }

        if (double.IsNaN(ReplayAboveTrimmedMeanError) || ReplayAboveTrimmedMeanError < 0)
        {
            throw new ArgumentException("The replay trigger must be non-negative.", nameof(ReplayAboveTrimmedMeanError));
        }

        if (ContextLength is < 1)
        {
            throw new ArgumentException("Context length must be positive.", nameof(ContextLength));
        }
    }
}

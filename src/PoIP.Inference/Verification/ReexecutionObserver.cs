using PoIP.Core.Engine;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;

namespace PoIP.Inference.Verification;

/// <summary>
/// Watches the verifier's teacher-forced re-execution: feeds every output position's hidden state to
/// the <see cref="CommitmentComparer"/> and replays the sampler on every position's logits against
/// the claimed token, with the slack rule of <see cref="ReexecutionVerifierOptions.SamplingSlack"/>.
/// Works inside the engine's callback (spans are valid only there); allocates nothing per position.
/// </summary>
internal sealed class ReexecutionObserver : IActivationObserver
{
    private readonly CommitmentComparer _comparer;
    private readonly ISequenceSampler _sampler;
    private readonly SamplingParameters _sampling;
    private readonly ulong _seed;
    private readonly IReadOnlyList<int> _claimed;
    private readonly int[] _history;
    private readonly int _promptLength;
    private readonly float _slackDelta;
    private readonly int _maxSlack;
    private float[] _perturbed = [];

    public ReexecutionObserver(CommitmentComparer comparer, ISequenceSampler sampler, SamplingParameters sampling, ulong seed, IReadOnlyList<int> promptTokens, IReadOnlyList<int> claimed, float slack, double maxSlackFraction, int minSlackPositions)
    {
        _comparer = comparer;
        _sampler = sampler;
        _sampling = sampling;
        _seed = seed;
        _claimed = claimed;
        _promptLength = promptTokens.Count;
        _history = new int[promptTokens.Count + claimed.Count];
        for (int i = 0; i < promptTokens.Count; i++)
        {
            _history[i] = promptTokens[i];
        }

        _slackDelta = slack * (sampling.IsGreedy ? 1f : sampling.Temperature);
        _maxSlack = slack > 0 ? Math.Max(minSlackPositions, (int)Math.Floor(maxSlackFraction * claimed.Count)) : 0;
    }

    /// <summary>Positions observed.</summary>
    public int Positions { get; private set; }

    /// <summary>Prompt length the engine reported, or -1.</summary>
    public int ReportedPromptLength { get; private set; } = -1;

    /// <summary>First position whose claimed token the sampler rejects, or -1.</summary>
    public int FirstSamplingFailure { get; private set; } = -1;

    /// <summary>What the sampler picked at <see cref="FirstSamplingFailure"/>.</summary>
    public int SampledAtFailure { get; private set; } = -1;

    /// <summary>Raw logit of the sampler's pick minus the claimed token's at <see cref="FirstSamplingFailure"/>.</summary>
    public float LogitGapAtFailure { get; private set; }

    /// <summary>First position whose claimed token is not exactly the sampler's pick (no slack), or -1.</summary>
    public int FirstStrictFailure { get; private set; } = -1;

    /// <summary>What the sampler picked at <see cref="FirstStrictFailure"/>.</summary>
    public int SampledAtStrictFailure { get; private set; } = -1;

    /// <summary>
    /// First position whose claimed token the slack rule cannot explain at all (budget aside), or -1. The
    /// sampling check goes on after <see cref="FirstSamplingFailure"/> until it finds one, so a verdict can
    /// tell "the budget was spent on near-ties" from "a token no rounding noise explains".
    /// </summary>
    public int FirstUnexplained { get; private set; } = -1;

    /// <summary>Disagreements the slack rule explains but that came after its budget was spent (before <see cref="FirstUnexplained"/>).</summary>
    public int OverBudget { get; private set; }

    /// <summary>Positions accepted through the slack rule.</summary>
    public int SlackUsed { get; private set; }

    /// <summary>First position where the engine reported another token than the claimed one (an engine fault), or -1.</summary>
    public int FirstEngineFault { get; private set; } = -1;

    public void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState)
    {
        if (ReportedPromptLength >= 0 || promptTokenCount != _promptLength || lastHiddenState.Length != _comparer.HiddenSize)
        {
            FirstEngineFault = Math.Max(FirstEngineFault, 0);
            return;
        }

        ReportedPromptLength = promptTokenCount;
        _comparer.SetPrompt(lastHiddenState);
    }

    public void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits)
    {
        if (ReportedPromptLength < 0 || index != Positions || index >= _claimed.Count || tokenId != _claimed[index] || hiddenState.Length != _comparer.HiddenSize)
        {
            if (FirstEngineFault < 0)
            {
                FirstEngineFault = index;
            }

            return;
        }

        Positions++;
        _comparer.Add(hiddenState);
        int claimed = _claimed[index];
        if (FirstUnexplained < 0)
        {
            ReadOnlySpan<int> history = _history.AsSpan(0, _promptLength + index);
            int sampled = _sampler.Sample(logits, _sampling, _seed, index, history);
            if (sampled != claimed && FirstStrictFailure < 0)
            {
                FirstStrictFailure = index;
                SampledAtStrictFailure = sampled;
            }

            if (sampled != claimed)
            {
                bool explained = _maxSlack > 0 && SlackExplains(logits, sampled, claimed, index, history);
                if (explained && SlackUsed < _maxSlack && FirstSamplingFailure < 0)
                {
                    SlackUsed++;
                }
                else
                {
                    if (explained)
                    {
                        OverBudget++;
                    }
                    else
                    {
                        FirstUnexplained = index;
                    }

                    if (FirstSamplingFailure < 0)
                    {
                        FirstSamplingFailure = index;
                        SampledAtFailure = sampled;
                        LogitGapAtFailure = (uint)sampled < (uint)logits.Length && (uint)claimed < (uint)logits.Length ? logits[sampled] - logits[claimed] : float.NaN;
                    }
                }
            }
        }

        _history[_promptLength + index] = claimed;
    }

    /// <summary>Whether the slack rule explains the sampler picking <paramref name="sampled"/> instead of <paramref name="claimed"/> (budget not counted).</summary>
    private bool SlackExplains(ReadOnlySpan<float> logits, int sampled, int claimed, int index, ReadOnlySpan<int> history)
    {
        if ((uint)claimed >= (uint)logits.Length || (uint)sampled >= (uint)logits.Length)
        {
            return false;
        }

        if (_perturbed.Length != logits.Length)
        {
            _perturbed = new float[logits.Length]; // once per sequence
        }

        logits.CopyTo(_perturbed);
        _perturbed[claimed] += _slackDelta;
        _perturbed[sampled] -= _slackDelta;
        if (_sampler.Sample(_perturbed, _sampling, _seed, index, history) == claimed
            || WithinCutoffSlack(logits, claimed, index, history)
            || _sampler.IsNearDraw(logits, _sampling, _seed, index, history, claimed, DrawTolerance))
        {
            return true;
        }

        return false;
    }

    /// <summary>
    /// The cut-off half of the slack rule: rounding noise can also move a third token across a top-k,
    /// top-p or min-p boundary, which changes the candidate set and shifts the whole seeded draw. The
    /// claim is accepted when the sampler picks it with one cut-off nudged by the tolerance
    /// (<see cref="CutoffTolerance"/> relative for top-p and min-p, one rank for top-k).
    /// </summary>
    private bool WithinCutoffSlack(ReadOnlySpan<float> logits, int claimed, int index, ReadOnlySpan<int> history)
    {
        if (_sampling.IsGreedy)
        {
            return false;
        }

        if (_sampling.TopP < 1f)
        {
            foreach (float factor in CutoffFactors)
            {
                var nudged = _sampling with { TopP = Math.Min(1f, _sampling.TopP * factor) };
                if (_sampler.Sample(logits, nudged, _seed, index, history) == claimed)
                {
                    return true;
                }
            }
        }

        if (_sampling.MinP > 0f)
        {
            foreach (float factor in CutoffFactors)
            {
                var nudged = _sampling with { MinP = Math.Min(1f, _sampling.MinP * factor) };
                if (_sampler.Sample(logits, nudged, _seed, index, history) == claimed)
                {
                    return true;
                }
            }
        }

        if (_sampling.TopK > 0)
        {
            foreach (int delta in (ReadOnlySpan<int>)[1, -1])
            {
                int k = _sampling.TopK + delta;
                if (k > 0 && _sampler.Sample(logits, _sampling with { TopK = k }, _seed, index, history) == claimed)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// How far (fraction of the kept probability mass) the seeded draw point may lie from the claimed
    /// token's interval: the accumulated shift of a draw laid out in token-id order when many candidates'
    /// masses move a little (flat distributions, quantised weights; docs/proofs.md).
    /// </summary>
    internal const double DrawTolerance = 0.005;

    /// <summary>Relative nudge of the top-p and min-p cut-offs in <see cref="WithinCutoffSlack"/>.</summary>
    internal const float CutoffTolerance = 0.02f;

    private static readonly float[] CutoffFactors = [1f + CutoffTolerance, 1f - CutoffTolerance];
}

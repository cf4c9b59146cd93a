using PoIP.Core.Engine;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;
using PoIP.Inference.Verification;

namespace PoIP.Testing.Verification;

/// <summary>The engines a detection matrix uses: the honest one (which the verifier also runs) and the cheats' engines, each optional.</summary>
/// <param name="Honest">The requested model on the standard engine.</param>
/// <param name="OtherModel">Another model with the same tokenizer, or null to skip.</param>
/// <param name="CheaperQuantisation">A cheaper quantisation of the requested model, or null.</param>
/// <param name="CheapSmallModel">A small cheap model with the same tokenizer, or null.</param>
/// <param name="AdjacentQuantisation">The requested weights in the nearest cheaper encoding, or null.</param>
/// <param name="OtherKvCache">The requested model on an engine with another KV-cache type, or null.</param>
public sealed record ProofMatrixEngines(
    IInferenceEngine Honest, IInferenceEngine? OtherModel = null, IInferenceEngine? CheaperQuantisation = null, IInferenceEngine? CheapSmallModel = null,
    IInferenceEngine? AdjacentQuantisation = null, IInferenceEngine? OtherKvCache = null);

/// <summary>One request the matrix generates honestly and then attacks.</summary>
/// <param name="Prompt">The prompt text.</param>
/// <param name="Sampling">The sampling parameters.</param>
/// <param name="Seed">The seed.</param>
/// <param name="MaxTokens">The token limit.</param>
public sealed record ProofMatrixCase(string Prompt, SamplingParameters Sampling, ulong Seed, int MaxTokens);

/// <summary>Counts for one attack (or for honest receipts when <see cref="Attack"/> is null).</summary>
/// <param name="Attack">The attack, or null for honest receipts.</param>
/// <param name="Cases">Cases where the attack changed the claim (for honest: receipts verified).</param>
/// <param name="Caught">Judged other than valid (for honest: false positives).</param>
/// <param name="Missed">Judged valid (for honest: correct passes).</param>
/// <param name="NotApplicable">Cases skipped: engine missing, or the attack produced the honest claim.</param>
/// <param name="Reasons">How many were caught for each reason.</param>
/// <param name="WorstChunks">
/// Per re-executed receipt, its most divergent comparison (largest trimmed-mean relative error);
/// filled when the verifier is a <see cref="ReexecutionVerifier"/>. Calibration puts the thresholds
/// above the honest row's largest value and below the attacks' smallest.
/// </param>
/// <param name="SlackUsed">Positions accepted through the sampling slack by the deciding stage, summed over receipts.</param>
/// <param name="Replayed">Receipts whose teacher-forced sampling check was disputed and settled by a decoding replay.</param>
/// <param name="Inconclusive">Of <paramref name="Caught"/>, those judged inconclusive rather than fraud (never a slash).</param>
public sealed record ProofMatrixRow(ProofAttack? Attack, int Cases, int Caught, int Missed, int NotApplicable, IReadOnlyDictionary<FraudReason, int> Reasons, IReadOnlyList<ChunkComparison> WorstChunks, int SlackUsed, int Replayed = 0, int Inconclusive = 0)
{
    /// <summary>Adds up rows of the same attack.</summary>
    public static ProofMatrixRow Combine(ProofAttack? attack, IEnumerable<ProofMatrixRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var all = rows.ToArray();
        var reasons = new Dictionary<FraudReason, int>();
        foreach (var (reason, count) in all.SelectMany(r => r.Reasons))
        {
            reasons[reason] = reasons.GetValueOrDefault(reason) + count;
        }

        return new ProofMatrixRow(attack, all.Sum(r => r.Cases), all.Sum(r => r.Caught), all.Sum(r => r.Missed), all.Sum(r => r.NotApplicable), reasons, [.. all.SelectMany(r => r.WorstChunks)], all.Sum(r => r.SlackUsed), all.Sum(r => r.Replayed), all.Sum(r => r.Inconclusive));
    }

    /// <summary>Range of <see cref="ChunkComparison.TrimmedMeanRelativeError"/> over <see cref="WorstChunks"/>, or null.</summary>
    public (double Min, double Max)? WorstTrimmedMeanRange =>
        WorstChunks.Count == 0 ? null : (WorstChunks.Min(c => c.TrimmedMeanRelativeError), WorstChunks.Max(c => c.TrimmedMeanRelativeError));
}

/// <summary>The detection matrix.</summary>
/// <param name="Honest">Honest receipts: <see cref="ProofMatrixRow.Missed"/> are correct passes, <see cref="ProofMatrixRow.Caught"/> false positives.</param>
/// <param name="Attacks">One row per attack.</param>
/// <param name="Failures">Details of honest failures and missed attacks.</param>
public sealed record ProofMatrixReport(ProofMatrixRow Honest, IReadOnlyList<ProofMatrixRow> Attacks, IReadOnlyList<string> Failures)
{
    /// <summary>Adds up reports row by row (counts, reasons, worst chunks, slack and failures).</summary>
    public static ProofMatrixReport Combine(IEnumerable<ProofMatrixReport> reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var all = reports.ToArray();
        return new ProofMatrixReport(
            ProofMatrixRow.Combine(null, all.Select(r => r.Honest)),
            [.. Enum.GetValues<ProofAttack>().Select(a => ProofMatrixRow.Combine(a, all.SelectMany(r => r.Attacks.Where(row => row.Attack == a))))],
            [.. all.SelectMany(r => r.Failures)]);
    }

    /// <summary>The row of <paramref name="attack"/>.</summary>
    public ProofMatrixRow this[ProofAttack attack] => Attacks.Single(r => r.Attack == attack);

    /// <summary>A plain-text table.</summary>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("attack                  cases  caught  missed  n/a  slack  replay  worst-chunk trimmed mean [min, max]  reasons");
        foreach (var row in Attacks.Prepend(Honest))
        {
            string name = row.Attack?.ToString() ?? "honest (caught = FP)";
            string reasons = string.Join(", ", row.Reasons.Select(r => $"{r.Key}={r.Value}"));
            string range = row.WorstTrimmedMeanRange is { } r ? System.FormattableString.Invariant($"[{r.Min:G3}, {r.Max:G3}]") : "-";
            text.AppendLine(System.FormattableString.Invariant($"{name,-24}{row.Cases,5}{row.Caught,8}{row.Missed,8}{row.NotApplicable,5}{row.SlackUsed,7}{row.Replayed,8}  {range,-36}  {reasons}"));
        }

        return text.ToString();
    }
}

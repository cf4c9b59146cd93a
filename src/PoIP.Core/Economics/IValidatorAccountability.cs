using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;

namespace PoIP.Core.Economics;

/// <summary>
/// Validators held to account (docs/proofs.md, "Validator accountability"): a slash needs a quorum of
/// independent verdicts; the accused may appeal to a panel drawn afresh before the slash executes; a
/// validator whose verdict is overturned is slashed itself; planted receipts (committed before they
/// are released) catch validators that answer without auditing. Every input is a signed envelope,
/// checked before anything moves; refusals change nothing. Implemented by the embedded back end; the
/// EVM back end does not implement it yet.
/// </summary>
public interface IValidatorAccountability
{
    /// <summary>The rules in force.</summary>
    Task<AccountabilityRules> GetAccountabilityRulesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Counts a validator's signed verdict (fraud or valid) on <paramref name="receipt"/>. A fraud
    /// verdict opens the receipt's case when none is open; a valid verdict counts only in an existing case.
    /// The verdict must be signed by its registered validator and judge this receipt of this node for this request.
    /// </summary>
    Task<EconomicResult> SubmitVerdictAsync(OperationId operation, SignedMessage<Verdict> verdict, SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt, CancellationToken cancellationToken = default);

    /// <summary>Appeals a convicted case within the appeal window; draws the panel that judges it.</summary>
    Task<EconomicResult> AppealAsync(OperationId operation, SignedMessage<Appeal> appeal, CancellationToken cancellationToken = default);

    /// <summary>Executes a convicted case whose appeal window passed, or an appeal whose panel did not decide in time (the conviction stands).</summary>
    Task<EconomicResult> FinalizeCaseAsync(OperationId operation, ReceiptId receipt, CancellationToken cancellationToken = default);

    /// <summary>Records a registered validator's plant commitment (<see cref="PlantCommitment"/>) before the planted receipt is released.</summary>
    Task<EconomicResult> CommitPlantAsync(OperationId operation, PeerId planter, Sha256Digest commitment, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reveals a planted receipt with the verdicts the planter received on it (at most 64): the
    /// commitment must match and predate every verdict; the receipt's case is convicted at once (its
    /// right verdict, fraud, is known) and each valid verdict counted in it is overturned and slashed.
    /// </summary>
    Task<EconomicResult> RevealPlantAsync(OperationId operation, PeerId planter, ReadOnlyMemory<byte> salt, SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt, IReadOnlyList<SignedMessage<Verdict>> verdicts, CancellationToken cancellationToken = default);

    /// <summary>The case of <paramref name="receipt"/>, or null.</summary>
    Task<DisputeCase?> GetCaseAsync(ReceiptId receipt, CancellationToken cancellationToken = default);
}

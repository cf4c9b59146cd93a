using PoIP.Core.Economics;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Economics.Embedded;
using PoIP.Economics.Embedded.Operations;

namespace PoIP.Economics.Slashing;

/// <summary>
/// The validator-accountability rules on the embedded ledger (docs/proofs.md, "Validator
/// accountability"): quorum, appeal to a freshly drawn panel, slashing of overturned validators,
/// planted receipts. Every check runs before anything is written; a refusal rolls back.
/// </summary>
internal static class DisputeCases
{
    private const int FirstRound = 0;
    private const int PanelRound = 1;

    public static AccountabilityRules Rules(LedgerTransaction ledger)
    {
        long quorum = ledger.Setting(GenesisOperation.SlashQuorumSetting);
        long panel = ledger.Setting(GenesisOperation.AppealPanelSetting);
        var defaults = AccountabilityRules.Default;
        return new AccountabilityRules(
            quorum == 0 ? defaults.SlashQuorum : (int)quorum,
            TimeSpan.FromMilliseconds(ledger.Setting(GenesisOperation.AppealWindowSetting)),
            panel == 0 ? defaults.AppealPanelSize : (int)panel);
    }

    /// <summary>Counts one verdict (rule 1, and the panel's votes of rule 2), then decides the case if a side has its quorum.</summary>
    public static EconomicResult AddVerdict(LedgerTransaction ledger, ReadOnlyMemory<byte> verdictEnvelope, ReadOnlyMemory<byte> requestEnvelope, ReadOnlyMemory<byte> receiptEnvelope, PeerId? opener)
    {
        var refused = Count(ledger, verdictEnvelope, requestEnvelope, receiptEnvelope, opener, out var receiptId, out var outcome);
        return refused ?? Decide(ledger, receiptId, $"{outcome} verdict counted");
    }

    /// <summary>Checks and records one verdict; returns the refusal, or null when it was counted.</summary>
    private static EconomicResult? Count(LedgerTransaction ledger, ReadOnlyMemory<byte> verdictEnvelope, ReadOnlyMemory<byte> requestEnvelope, ReadOnlyMemory<byte> receiptEnvelope, PeerId? opener, out ReceiptId receiptId, out VerdictOutcome outcome)
    {
        receiptId = default;
        outcome = default;
        SignedMessage<Verdict> verdict;
        SignedMessage<InferenceRequest> request;
        SignedMessage<InferenceReceipt> receipt;
        try
        {
            verdict = SignedMessage.Open<Verdict>(verdictEnvelope);
            request = SignedMessage.Open<InferenceRequest>(requestEnvelope);
            receipt = SignedMessage.Open<InferenceReceipt>(receiptEnvelope);
        }
        catch (PoIPException e)
        {
            return Refuse(EconomicStatus.InvalidEvidence, "an envelope does not verify: " + e.Message);
        }

        var v = verdict.Message;
        var validator = verdict.Signer;
        var accused = receipt.Signer;
        receiptId = new ReceiptId(receipt.Hash);
        outcome = v.Outcome;
        string? problem =
            validator != v.ValidatorId ? "the verdict is not signed by its validator."
            : v.Outcome is not (VerdictOutcome.Fraud or VerdictOutcome.Valid) ? "only fraud and valid verdicts count."
            : receipt.Message.NodeId != accused || v.NodeId != accused ? "the verdict, the receipt and its signer name different nodes."
            : v.ReceiptId != receiptId ? "the verdict judges another receipt."
            : receipt.Message.RequestId != new RequestId(request.Hash) ? "the receipt answers another request."
            : request.Signer != request.Message.ClientId ? "the request is not signed by its client."
            : validator == accused ? "a node cannot judge itself."
            : !ledger.IsValidator(validator) ? "the verdict's validator is not registered (staked)."
            : null;
        if (problem is not null)
        {
            return Refuse(EconomicStatus.InvalidEvidence, problem);
        }

        if (DisputeTables.VerdictCounted(ledger, verdict.Hash))
        {
            return Refuse(EconomicStatus.EvidenceAlreadyUsed, "this verdict was already counted.");
        }

        var row = DisputeTables.Case(ledger, receiptId);
        if (row is null)
        {
            if (v.Outcome != VerdictOutcome.Fraud)
            {
                return Refuse(EconomicStatus.NotAllowed, "no case is open on this receipt: a valid verdict only counts against a fraud case.");
            }

            var openedBy = opener ?? validator;
            if (ledger.Balance(openedBy) is null)
            {
                return Refuse(EconomicStatus.UnknownAccount, "unknown challenger account.");
            }

            DisputeTables.Insert(ledger, receiptId, accused, new RequestId(request.Hash), openedBy);
            row = DisputeTables.Case(ledger, receiptId)!;
        }

        var votes = DisputeTables.Votes(ledger, receiptId);
        int round;
        switch (row.State)
        {
            case DisputeState.Open or DisputeState.Convicted:
                round = FirstRound;
                if (row.PlantedMs != 0 && v.IssuedAt.ToUnixTimeMilliseconds() < row.PlantedMs)
                {
                    return Refuse(EconomicStatus.NotAllowed, "the verdict predates the plant commitment.");
                }

                break;
            case DisputeState.Appealed:
                round = PanelRound;
                if (!DisputeTables.Panel(ledger, receiptId).Contains(validator))
                {
                    return Refuse(EconomicStatus.NotAllowed, "the case is under appeal: only the drawn panel's verdicts count.");
                }

                break;
            default:
                return Refuse(EconomicStatus.NotAllowed, $"the case is closed ({row.State}).");
        }

        if (votes.Any(x => x.Validator == validator && x.Round == round))
        {
            return Refuse(EconomicStatus.NotAllowed, "this validator's verdict is already counted in this case.");
        }

        DisputeTables.AddVote(ledger, receiptId, validator, round, v.Outcome, verdict.Hash, v.IssuedAt.ToUnixTimeMilliseconds());
        return null;
    }

    /// <summary>Rule 2: an appeal by a party the conviction slashes, within the window; draws the panel.</summary>
    public static EconomicResult Appeal(LedgerTransaction ledger, ReadOnlyMemory<byte> appealEnvelope)
    {
        SignedMessage<Appeal> appeal;
        try
        {
            appeal = SignedMessage.Open<Appeal>(appealEnvelope);
        }
        catch (PoIPException e)
        {
            return Refuse(EconomicStatus.InvalidEvidence, "the appeal does not verify: " + e.Message);
        }

        var appellant = appeal.Signer;
        if (appellant != appeal.Message.AppellantId)
        {
            return Refuse(EconomicStatus.InvalidEvidence, "the appeal is not signed by its appellant.");
        }

        var receiptId = appeal.Message.ReceiptId;
        var row = DisputeTables.Case(ledger, receiptId);
        if (row is null)
        {
            return Refuse(EconomicStatus.NotAllowed, "no case on this receipt.");
        }

        if (row.State != DisputeState.Convicted)
        {
            return Refuse(EconomicStatus.NotAllowed, $"only a convicted case can be appealed (this one is {row.State}).");
        }

        var rules = Rules(ledger);
        if (ledger.NowMs >= row.DecidedMs + (long)rules.AppealWindow.TotalMilliseconds)
        {
            return Refuse(EconomicStatus.NotAllowed, "the appeal window has passed.");
        }

        var votes = DisputeTables.Votes(ledger, receiptId);
        bool slashedParty = appellant == row.Accused || votes.Any(x => x.Validator == appellant && x.Outcome == VerdictOutcome.Valid);
        if (!slashedParty)
        {
            return Refuse(EconomicStatus.NotAllowed, "only a party the conviction slashes may appeal.");
        }

        var excluded = votes.Select(x => x.Validator).Append(row.Accused).Append(row.Opener).ToHashSet();
        var eligible = ledger.Validators().Where(p => !excluded.Contains(p));
        var panel = AppealDraw.Draw(new Sha256Digest(row.Seed), eligible, rules.AppealPanelSize);
        if (panel.Count == 0)
        {
            return Refuse(EconomicStatus.NotAllowed, "no registered validator is left to judge the appeal.");
        }

        foreach (var panelist in panel)
        {
            DisputeTables.AddPanelist(ledger, receiptId, panelist);
        }

        DisputeTables.SetAppealed(ledger, receiptId);
        return new EconomicResult(EconomicStatus.Applied, $"appeal accepted; panel of {panel.Count} drawn.");
    }

    /// <summary>Executes a conviction whose appeal window passed, or whose panel did not decide in time.</summary>
    public static EconomicResult Finalize(LedgerTransaction ledger, ReceiptId receiptId)
    {
        var row = DisputeTables.Case(ledger, receiptId);
        if (row is null)
        {
            return Refuse(EconomicStatus.NotAllowed, "no case on this receipt.");
        }

        long window = (long)Rules(ledger).AppealWindow.TotalMilliseconds;
        bool due = row.State switch
        {
            DisputeState.Convicted => ledger.NowMs >= row.DecidedMs + window,
            DisputeState.Appealed => ledger.NowMs >= row.AppealedMs + window,
            _ => false,
        };
        return due
            ? Execute(ledger, row, panelDecided: false)
            : Refuse(EconomicStatus.NotAllowed, row.State is DisputeState.Convicted or DisputeState.Appealed ? "the appeal window is still open." : $"nothing to finalize ({row.State}).");
    }

    /// <summary>Rule 4: a registered validator commits to a planted receipt before releasing it.</summary>
    public static EconomicResult CommitPlant(LedgerTransaction ledger, PeerId planter, Sha256Digest commitment)
    {
        if (!ledger.IsValidator(planter))
        {
            return Refuse(EconomicStatus.NotAllowed, "only a registered validator may plant receipts.");
        }

        if (DisputeTables.Plant(ledger, commitment) is not null)
        {
            return Refuse(EconomicStatus.NotAllowed, "this commitment is already recorded.");
        }

        DisputeTables.AddPlant(ledger, commitment, planter);
        return EconomicResult.Applied;
    }

    /// <summary>
    /// Rule 4: reveals a plant with the verdicts the planter received on it; the receipt's case is
    /// convicted at once (the planter its opener) and the verdicts are counted in it, so every valid
    /// one is overturned.
    /// </summary>
    public static EconomicResult RevealPlant(LedgerTransaction ledger, PeerId planter, ReadOnlyMemory<byte> salt, ReadOnlyMemory<byte> requestEnvelope, ReadOnlyMemory<byte> receiptEnvelope, IReadOnlyList<ReadOnlyMemory<byte>> verdictEnvelopes)
    {
        SignedMessage<InferenceRequest> request;
        SignedMessage<InferenceReceipt> receipt;
        try
        {
            request = SignedMessage.Open<InferenceRequest>(requestEnvelope);
            receipt = SignedMessage.Open<InferenceReceipt>(receiptEnvelope);
        }
        catch (PoIPException e)
        {
            return Refuse(EconomicStatus.InvalidEvidence, "an envelope does not verify: " + e.Message);
        }

        if (receipt.Signer != receipt.Message.NodeId || receipt.Message.RequestId != new RequestId(request.Hash) || request.Signer != request.Message.ClientId)
        {
            return Refuse(EconomicStatus.InvalidEvidence, "the receipt does not answer this request, or a signer is not the party it names.");
        }

        if (salt.Length is < PlantCommitment.MinSaltLength or > PlantCommitment.MaxSaltLength)
        {
            return Refuse(EconomicStatus.InvalidEvidence, "the salt has the wrong length.");
        }

        var receiptId = new ReceiptId(receipt.Hash);
        var commitment = PlantCommitment.Compute(planter, receiptId, salt.Span);
        if (DisputeTables.Plant(ledger, commitment) is not { } plant || plant.Planter != planter)
        {
            return Refuse(EconomicStatus.InvalidEvidence, "no plant commitment of this planter matches.");
        }

        if (plant.Revealed)
        {
            return Refuse(EconomicStatus.EvidenceAlreadyUsed, "this plant was already revealed.");
        }

        if (receipt.Signer == planter)
        {
            return Refuse(EconomicStatus.NotAllowed, "a planter cannot accuse itself.");
        }

        var row = DisputeTables.Case(ledger, receiptId);
        if (row is not null && row.State is not (DisputeState.Open or DisputeState.Convicted))
        {
            return Refuse(EconomicStatus.NotAllowed, $"the receipt's case is {row.State}.");
        }

        var votes = row is null ? [] : DisputeTables.Votes(ledger, receiptId);
        if (votes.Any(x => x.Outcome == VerdictOutcome.Valid && x.IssuedMs < plant.CommittedMs))
        {
            return Refuse(EconomicStatus.NotAllowed, "a counted verdict predates the commitment: the receipt was not planted before it was judged.");
        }

        if (row is null)
        {
            DisputeTables.Insert(ledger, receiptId, receipt.Signer, new RequestId(request.Hash), planter);
        }

        DisputeTables.RevealPlant(ledger, commitment, receiptId);
        DisputeTables.SetPlanted(ledger, receiptId, plant.CommittedMs);
        if (!votes.Any(x => x.Validator == planter && x.Round == FirstRound))
        {
            DisputeTables.AddVote(ledger, receiptId, planter, FirstRound, VerdictOutcome.Fraud, commitment, plant.CommittedMs);
        }

        foreach (var verdictEnvelope in verdictEnvelopes)
        {
            if (Count(ledger, verdictEnvelope, requestEnvelope, receiptEnvelope, planter, out var judged, out _) is { } refused)
            {
                return refused;
            }

            if (judged != receiptId)
            {
                return Refuse(EconomicStatus.InvalidEvidence, "a verdict judges another receipt.");
            }
        }

        // The protocol knows the right verdict of a planted receipt: the case is convicted without waiting for a quorum.
        if (DisputeTables.Case(ledger, receiptId)!.State == DisputeState.Open)
        {
            Convict(ledger, receiptId);
        }

        return Decide(ledger, receiptId, "plant revealed");
    }

    private static EconomicResult Decide(LedgerTransaction ledger, ReceiptId receiptId, string what)
    {
        var row = DisputeTables.Case(ledger, receiptId)!;
        var rules = Rules(ledger);
        var votes = DisputeTables.Votes(ledger, receiptId);
        if (row.State == DisputeState.Open)
        {
            int fraud = votes.Count(x => x.Outcome == VerdictOutcome.Fraud);
            int valid = votes.Count(x => x.Outcome == VerdictOutcome.Valid);
            if (valid >= rules.SlashQuorum)
            {
                return Cancel(ledger, row, "the quorum found the receipt valid");
            }

            if (fraud < rules.SlashQuorum)
            {
                return new EconomicResult(EconomicStatus.Applied, $"{what}: {fraud} of {rules.SlashQuorum} fraud verdicts; nothing slashed yet.");
            }

            Convict(ledger, receiptId);
            row = DisputeTables.Case(ledger, receiptId)!;
        }

        if (row.State == DisputeState.Convicted)
        {
            return rules.AppealWindow <= TimeSpan.Zero
                ? Execute(ledger, row, panelDecided: false)
                : new EconomicResult(EconomicStatus.Applied, $"{what}: convicted; the slash executes when the appeal window closes.");
        }

        if (row.State == DisputeState.Appealed)
        {
            int majority = (DisputeTables.Panel(ledger, receiptId).Count / 2) + 1;
            var panelVotes = votes.Where(x => x.Round == PanelRound).ToList();
            if (panelVotes.Count(x => x.Outcome == VerdictOutcome.Fraud) >= majority)
            {
                return Execute(ledger, row, panelDecided: true);
            }

            if (panelVotes.Count(x => x.Outcome == VerdictOutcome.Valid) >= majority)
            {
                return Cancel(ledger, row, "the appeal panel found the receipt valid");
            }

            return new EconomicResult(EconomicStatus.Applied, $"{what}: {panelVotes.Count} of the panel's verdicts in; the slash waits.");
        }

        return new EconomicResult(EconomicStatus.Applied, what);
    }

    private static void Convict(LedgerTransaction ledger, ReceiptId receiptId)
    {
        var convicting = DisputeTables.Votes(ledger, receiptId).Where(x => x.Outcome == VerdictOutcome.Fraud).Select(x => x.VerdictHash);
        DisputeTables.SetConvicted(ledger, receiptId, AppealDraw.Seed(receiptId, ledger.NowMs, convicting).ToArray());
    }

    /// <summary>
    /// The node is slashed (challenger share to the opener); every first-round validator that said
    /// valid is slashed too (share to the opener), and so is every panelist that said valid when the
    /// panel's majority upheld the conviction (not when the panel ran out of time undecided).
    /// </summary>
    private static EconomicResult Execute(LedgerTransaction ledger, CaseRow row, bool panelDecided)
    {
        var slashed = Core.Money.TokenAmount.Zero;
        byte[] key = EvidenceVerifier.FraudKey(row.Receipt.Digest);
        if (!ledger.EvidenceUsed(key))
        {
            var split = Penalty.Apply(ledger, row.Accused, row.Opener);
            slashed = split.Total;
            ledger.UseEvidence(key, (int)EvidenceKind.FraudVerdict, row.Accused, row.Request, split.Total);
        }

        if (ledger.Escrow(row.Request) is { State: Core.Economics.EscrowState.Open } escrow && escrow.Node == row.Accused)
        {
            RefundEscrowOperation.Refund(ledger, escrow);
        }

        var losers = DisputeTables.Votes(ledger, row.Receipt).Where(x => x.Outcome == VerdictOutcome.Valid && (x.Round == FirstRound || panelDecided)).Select(x => x.Validator).Distinct().ToList();
        foreach (var loser in losers)
        {
            Penalty.ApplyToValidator(ledger, loser, row.Opener);
        }

        DisputeTables.SetState(ledger, row.Receipt, DisputeState.Executed);
        return new EconomicResult(EconomicStatus.Applied, $"slashed the node {slashed} and {losers.Count} validator(s) whose valid verdict was overturned.");
    }

    /// <summary>The node keeps its stake; every validator that said fraud (the planter included) is slashed, its challenger share paid to the wrongly accused node.</summary>
    private static EconomicResult Cancel(LedgerTransaction ledger, CaseRow row, string why)
    {
        var losers = DisputeTables.Votes(ledger, row.Receipt).Where(x => x.Outcome == VerdictOutcome.Fraud).Select(x => x.Validator).Distinct().ToList();
        foreach (var loser in losers)
        {
            Penalty.ApplyToValidator(ledger, loser, row.Accused);
        }

        DisputeTables.SetState(ledger, row.Receipt, DisputeState.Cancelled);
        return new EconomicResult(EconomicStatus.Applied, $"{why}: no slash of the node; {losers.Count} validator(s) whose fraud verdict was overturned slashed.");
    }

    private static EconomicResult Refuse(EconomicStatus status, string detail) => new(status, detail);
}

using PoIP.Core.Economics;
using PoIP.Core.Money;
using PoIP.Economics.Governance;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>
/// After voting and the timelock: tallies (quorum of the bonded stake at proposal time, approval
/// threshold of the votes cast) and either applies the change or pays the grant, or rejects it.
/// Both outcomes close the proposal (Applied); the detail says which.
/// </summary>
internal sealed class ExecuteProposalOperation(ProposalId proposal) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.ExecuteProposal;

    public static ExecuteProposalOperation Read(ArgsReader reader) => new(new ProposalId(reader.Guid()));

    public override void Write(ArgsWriter writer) => writer.Guid(proposal.Value);

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        var info = ledger.Proposal(proposal);
        if (info is null || info.State != ProposalState.Open)
        {
            return Refuse(EconomicStatus.NotAllowed, info is null ? "unknown proposal." : $"the proposal is already {info.State}.");
        }

        if (ledger.NowMs < info.ExecutableAt.ToUnixTimeMilliseconds())
        {
            return Refuse(EconomicStatus.NotAllowed, "voting or the timelock is not over.");
        }

        var cast = info.Yes + info.No;
        var quorum = info.QuorumBase.MultiplyFraction(ledger.ParameterU64(EconomicParameter.QuorumBps), 10_000);
        string? rejection =
            cast.IsZero || cast < quorum ? "quorum not reached."
            : !MeetsThreshold(info.Yes, cast, ledger.ParameterU64(EconomicParameter.ApprovalThresholdBps)) ? "approval threshold not met."
            : info.Kind == ProposalKind.ParameterChange ? TryChange(ledger, info)
            : TryGrant(ledger, info);
        var state = rejection is null ? ProposalState.Executed : ProposalState.Rejected;
        ledger.Sql.Exec("UPDATE proposals SET state = $p1 WHERE id = $p0", Blob.Of(proposal.Value), (long)state);
        return new EconomicResult(EconomicStatus.Applied, rejection is null ? "executed." : "rejected: " + rejection);
    }

    /// <summary>yes / cast ≥ threshold / 10,000, computed without overflow.</summary>
    private static bool MeetsThreshold(TokenAmount yes, TokenAmount cast, ulong thresholdBps) =>
        (System.Numerics.BigInteger)yes.BaseUnits * 10_000 >= (System.Numerics.BigInteger)cast.BaseUnits * thresholdBps;

    private static string? TryChange(LedgerTransaction ledger, ProposalInfo info)
    {
        var values = ledger.Parameters();
        values[info.Parameter] = info.Value;
        string? problem = ParameterRules.Check(values);
        if (problem is not null)
        {
            return problem;
        }

        ledger.SetParameter(info.Parameter, info.Value);
        return null;
    }

    private static string? TryGrant(LedgerTransaction ledger, ProposalInfo info)
    {
        var amount = new TokenAmount(info.Value);
        if (!TokenAmount.TrySubtract(ledger.Total(LedgerTransaction.Fund), amount, out var left))
        {
            return "the public fund is too small.";
        }

        if (ledger.Balance(info.Recipient) is null)
        {
            return "the recipient account is gone.";
        }

        ledger.SetTotal(LedgerTransaction.Fund, left);
        ledger.Credit(info.Recipient, amount);
        return null;
    }
}

using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Economics.Governance;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Casts the voter's bonded stake (at voting time) for or against an open proposal; once per voter.</summary>
internal sealed class VoteOperation(ProposalId proposal, PeerId voter, bool support) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.Vote;

    public static VoteOperation Read(ArgsReader reader) => new(new ProposalId(reader.Guid()), reader.Peer(), reader.U32() != 0);

    public override void Write(ArgsWriter writer) => writer.Guid(proposal.Value).Peer(voter).U32(support ? 1u : 0u);

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        var info = ledger.Proposal(proposal);
        if (info is null)
        {
            return Refuse(EconomicStatus.NotAllowed, "unknown proposal.");
        }

        if (info.State != ProposalState.Open || ledger.NowMs >= info.VotingEndsAt.ToUnixTimeMilliseconds())
        {
            return Refuse(EconomicStatus.NotAllowed, "voting is closed.");
        }

        var weight = ledger.Bonded(voter);
        if (weight.IsZero)
        {
            return Refuse(EconomicStatus.InsufficientStake, "only bonded stake votes.");
        }

        if (ledger.Sql.Scalar("SELECT 1 FROM votes WHERE proposal = $p0 AND voter = $p1", Blob.Of(proposal.Value), Blob.Of(voter)) is not null)
        {
            return Refuse(EconomicStatus.NotAllowed, "already voted.");
        }

        ledger.Sql.Exec("INSERT INTO votes(proposal, voter, weight, support) VALUES ($p0, $p1, $p2, $p3)", Blob.Of(proposal.Value), Blob.Of(voter), Blob.Of(weight), support ? 1L : 0L);
        if (support)
        {
            ledger.Sql.Exec("UPDATE proposals SET yes = $p1 WHERE id = $p0", Blob.Of(proposal.Value), Blob.Of(info.Yes + weight));
        }
        else
        {
            ledger.Sql.Exec("UPDATE proposals SET no = $p1 WHERE id = $p0", Blob.Of(proposal.Value), Blob.Of(info.No + weight));
        }

        return EconomicResult.Applied;
    }
}

using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Governance;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Creates a parameter-change or grant proposal; the proposer needs bonded stake; values are range-checked now and again at execution.</summary>
internal sealed class ProposeOperation(ProposalKind kind, PeerId proposer, EconomicParameter parameter, UInt128 value, PeerId recipient) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.Propose;

    public static ProposeOperation Read(ArgsReader reader)
    {
        var kind = (ProposalKind)reader.U32();
        var proposer = reader.Peer();
        var parameter = (EconomicParameter)reader.U32();
        var value = reader.U128();
        byte[] recipient = reader.Bytes();
        return new ProposeOperation(kind, proposer, parameter, value, recipient.Length == 0 ? default : PeerId.FromBytes(recipient));
    }

    public override void Write(ArgsWriter writer) =>
        writer.U32((uint)kind).Peer(proposer).U32((uint)parameter).U128(value).Bytes(recipient.Bytes);

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        if (ledger.Balance(proposer) is null)
        {
            return Refuse(EconomicStatus.UnknownAccount, "unknown proposer.");
        }

        if (ledger.Bonded(proposer).IsZero)
        {
            return Refuse(EconomicStatus.InsufficientStake, "only bonded stake can propose.");
        }

        if (kind == ProposalKind.ParameterChange)
        {
            if (!ParameterRules.Ranges.TryGetValue(parameter, out var range) || !range.Contains(value))
            {
                return Refuse(EconomicStatus.InvalidAmount, $"{parameter} = {value} is outside its range.");
            }
        }
        else if (kind == ProposalKind.Grant)
        {
            if (value == UInt128.Zero)
            {
                return Refuse(EconomicStatus.InvalidAmount, "zero grant.");
            }

            if (ledger.Balance(recipient) is null)
            {
                return Refuse(EconomicStatus.UnknownAccount, "unknown grant recipient.");
            }
        }
        else
        {
            return Refuse(EconomicStatus.NotAllowed, "unknown proposal kind.");
        }

        long votingEnds = checked(ledger.NowMs + ledger.ParameterMs(EconomicParameter.VotingPeriodSeconds));
        long executable = checked(votingEnds + ledger.ParameterMs(EconomicParameter.TimelockSeconds));
        var quorumBase = ledger.TotalBonded();
        ledger.Sql.Exec(
            """
            INSERT INTO proposals(id, kind, proposer, parameter, value, recipient, created_ms, voting_ends_ms, executable_ms, quorum_base, yes, no, state)
            VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8, $p9, $p10, $p11, $p12)
            """,
            Blob.Of(ledger.Operation.Value),
            (long)kind,
            Blob.Of(proposer),
            (long)parameter,
            Blob.Of(value),
            recipient.ToArray(),
            ledger.NowMs,
            votingEnds,
            executable,
            Blob.Of(quorumBase),
            Blob.Of(TokenAmount.Zero),
            Blob.Of(TokenAmount.Zero),
            (long)ProposalState.Open);
        return EconomicResult.Applied;
    }
}

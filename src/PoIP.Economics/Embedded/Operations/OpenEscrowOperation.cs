using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>
/// Locks the client's price cap for one request served by a node with at least the minimum stake;
/// with a group, the escrow joins the client's first escrow of the same logical request (of a group,
/// at most one escrow is settled).
/// </summary>
internal sealed class OpenEscrowOperation(RequestId request, PeerId client, PeerId node, TokenAmount cap, RequestId? group = null) : LedgerOperation
{
    public override OperationKind Kind => group is null ? OperationKind.OpenEscrow : OperationKind.OpenEscrowInGroup;

    public static OpenEscrowOperation Read(ArgsReader reader) => new(reader.Request(), reader.Peer(), reader.Peer(), reader.Amount());

    public static OpenEscrowOperation ReadInGroup(ArgsReader reader) => new(reader.Request(), reader.Peer(), reader.Peer(), reader.Amount(), reader.Request());

    public override void Write(ArgsWriter writer)
    {
        writer.Request(request).Peer(client).Peer(node).Amount(cap);
        if (group is { } g)
        {
            writer.Request(g);
        }
    }

    public override EconomicResult Apply(LedgerTransaction ledger)
    {
        if (cap.IsZero)
        {
            return Refuse(EconomicStatus.InvalidAmount, "zero price cap.");
        }

        if (client == node)
        {
            return Refuse(EconomicStatus.NotAllowed, "a node cannot pay itself.");
        }

        var balance = ledger.Balance(client);
        if (balance is null || ledger.Balance(node) is null)
        {
            return Refuse(EconomicStatus.UnknownAccount, balance is null ? "unknown client." : "unknown node.");
        }

        if (ledger.Escrow(request) is not null)
        {
            return Refuse(EconomicStatus.NotAllowed, "this request already has an escrow.");
        }

        if (ledger.Bonded(node) < new TokenAmount(ledger.Parameter(EconomicParameter.MinimumStake)))
        {
            return Refuse(EconomicStatus.InsufficientStake, "the node has less than the minimum stake bonded.");
        }

        if (group is { } g)
        {
            var first = ledger.Escrow(g);
            if (g == request || first is null || first.Client != client || first.Group is not null)
            {
                return Refuse(EconomicStatus.NotAllowed, "the group must be the first escrow this client opened for the request.");
            }

            if (ledger.EscrowGroupPaid(g))
            {
                return Refuse(EconomicStatus.AlreadyPaid, "an escrow of this group was already settled.");
            }
        }

        if (!TokenAmount.TrySubtract(balance.Value, cap, out var remaining))
        {
            return Refuse(EconomicStatus.InsufficientFunds, "balance below the price cap.");
        }

        ledger.SetBalance(client, remaining);
        ledger.InsertEscrow(request, client, node, cap);
        if (group is { } joined)
        {
            ledger.JoinEscrowGroup(request, joined);
        }

        return EconomicResult.Applied;
    }
}

using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Economics.Parameters;
using PoIP.Testing.Economics;

namespace PoIP.Economics.IntegrationTests;

/// <summary>
/// Gas used by each PoIPLedger operation in one fixed scenario on a fresh deployment (shared by the
/// gas-table drift test and the <c>chain</c> benchmark). Keys are the docs/economics.md table's.
/// </summary>
internal static class GasProfile
{
    public static readonly string[] Operations =
        ["stake", "unbond", "withdraw", "open_escrow", "settle", "slash_verdict", "slash_equivocation", "vote", "batch_1", "batch_10", "batch_100", "fund_channel", "redeem_voucher"];

    public static async Task<Dictionary<string, long>> MeasureAsync(AnvilChain chain)
    {
        var gas = new Dictionary<string, long>();
        await using var h = await EvmHarness.StartAsync(chain);
        var m = h.Evm;
        using var node = Ed25519KeyPair.Generate();
        using var client = Ed25519KeyPair.Generate();
        using var validator = Ed25519KeyPair.Generate();
        using var challenger = Ed25519KeyPair.Generate();
        var stake = TokenAmount.FromTokens(300);
        await h.FundAsync(node.PeerId, stake);
        await h.FundAsync(client.PeerId, TokenAmount.FromTokens(1_000));
        await h.FundAsync(challenger.PeerId, TokenAmount.FromTokens(1));
        await h.RegisterValidatorAsync(validator.PeerId);

        async Task Measure(string name, Task<EconomicResult> operation)
        {
            var result = await operation;
            if (!result.IsApplied)
            {
                throw new InvalidOperationException($"{name}: {result.Status} {result.Detail}");
            }

            gas[name] = (long)m.LastGasUsed!.Value;
        }

        await Measure("stake", m.StakeAsync(OperationId.New(), node.PeerId, stake));
        await Measure("unbond", m.RequestUnbondAsync(OperationId.New(), node.PeerId, TokenAmount.FromTokens(10)));
        await h.AdvanceTimeAsync(h.Parameters.UnbondingPeriod);
        await Measure("withdraw", m.WithdrawUnbondedAsync(OperationId.New(), node.PeerId));

        var pairs = new List<(SignedMessage<InferenceRequest> Request, SignedMessage<InferenceReceipt> Receipt)>();
        for (ulong i = 0; i < 112; i++)
        {
            var request = EvidenceFactory.Request(client, i, TokenAmount.FromTokens(2));
            var opening = m.OpenEscrowAsync(OperationId.New(), new RequestId(request.Hash), client.PeerId, node.PeerId, TokenAmount.FromTokens(2));
            if (i == 0)
            {
                await Measure("open_escrow", opening);
            }
            else if (!(await opening).IsApplied)
            {
                throw new InvalidOperationException("open escrow refused");
            }

            pairs.Add((request, EvidenceFactory.Receipt(node, request, TokenAmount.FromTokens(1))));
        }

        await h.AdvanceTimeAsync(h.Parameters.DisputeWindow);
        await Measure("settle", m.SettleEscrowAsync(OperationId.New(), pairs[0].Request, pairs[0].Receipt));
        await Measure("batch_1", m.SettleBatchAsync(OperationId.New(), node.PeerId, pairs.GetRange(1, 1)));
        await Measure("batch_10", m.SettleBatchAsync(OperationId.New(), node.PeerId, pairs.GetRange(2, 10)));
        await Measure("batch_100", m.SettleBatchAsync(OperationId.New(), node.PeerId, pairs.GetRange(12, 100)));

        var fraudRequest = EvidenceFactory.Request(client, 1_000, TokenAmount.FromTokens(2));
        var fraudReceipt = EvidenceFactory.Receipt(node, fraudRequest, TokenAmount.FromTokens(1));
        var fraud = EvidenceFactory.Fraud(challenger, node.PeerId, EvidenceFactory.Verdict(validator, fraudReceipt, node.PeerId), fraudRequest, fraudReceipt);
        await Measure("slash_verdict", m.SlashAsync(OperationId.New(), fraud, challenger.PeerId));
        var twice = EvidenceFactory.Request(client, 1_001, TokenAmount.FromTokens(2));
        var a = EvidenceFactory.Record(node, twice, EvidenceFactory.Receipt(node, twice, TokenAmount.FromTokens(1)));
        var b = EvidenceFactory.Record(node, twice, EvidenceFactory.Receipt(node, twice, TokenAmount.FromTokens(1), variant: 1));
        await Measure("slash_equivocation", m.SlashAsync(OperationId.New(), EvidenceFactory.Equivocation(challenger, node.PeerId, a, b), challenger.PeerId));

        var proposal = await m.ProposeParameterAsync(OperationId.New(), validator.PeerId, EconomicParameter.ProtocolFeeBps, 200);
        if (!proposal.IsApplied)
        {
            throw new InvalidOperationException("proposal refused: " + proposal.Detail);
        }

        await Measure("vote", m.VoteAsync(OperationId.New(), node.PeerId, 1, support: true));

        await Measure("fund_channel", m.FundChannelAsync(OperationId.New(), client.PeerId, node.PeerId, TokenAmount.FromTokens(100)));
        await m.RedeemVoucherAsync(OperationId.New(), await m.SignVoucherAsync(client.PeerId, node.PeerId, TokenAmount.FromTokens(1)), node.PeerId); // the channel's first redemption writes a new slot
        await Measure("redeem_voucher", m.RedeemVoucherAsync(OperationId.New(), await m.SignVoucherAsync(client.PeerId, node.PeerId, TokenAmount.FromTokens(2)), node.PeerId));
        return gas;
    }
}

using System.Diagnostics;
using System.Globalization;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Economics.Evm;
using PoIP.Economics.IntegrationTests;
using PoIP.Testing.Economics;

namespace PoIP.Benchmarks.Economics;

/// <summary>
/// PoIPLedger on a local Anvil: gas per operation (the docs/economics.md table), settled requests per
/// second with batched settlement (100 receipts per transaction) against plain value transfers per
/// second through the same send path (simulate, nonce, sign, send, receipt) in the same run, and the
/// transactions needed per 1,000 settlements; and the same requests paid with aggregate vouchers
/// (one channel funded once, the client signs the running total after each request, the node redeems
/// every 100th total), whose payout equals the batched settlement's exactly.
/// </summary>
internal sealed class ChainBenchmark : IMacroBenchmark
{
    private const int BatchSize = 100;

    public string Name => "chain";

    public string Description => "PoIPLedger on Anvil: gas per operation; batched settlements/s vs value transfers/s; tx per 1000 settlements";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        int settlements = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000;
        int transfers = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200;
        var chain = new AnvilChain();
        await chain.InitializeAsync().ConfigureAwait(false);
        try
        {
            var figures = new Dictionary<string, object> { ["name"] = "chain" };
            foreach (var (operation, gas) in await GasProfile.MeasureAsync(chain).ConfigureAwait(false))
            {
                figures["gas_" + operation] = gas;
            }

            var (settledPerSecond, transactions) = await SettleAsync(chain, settlements).ConfigureAwait(false);
            double transfersPerSecond = await TransfersAsync(chain, transfers, cancellationToken).ConfigureAwait(false);
            figures["settlements"] = settlements;
            figures["settled_requests_per_s"] = BenchOutput.Round(settledPerSecond, 1);
            figures["value_transfers_per_s"] = BenchOutput.Round(transfersPerSecond, 1);
            figures["ratio"] = BenchOutput.Round(settledPerSecond / transfersPerSecond);
            figures["tx_per_1000_settlements"] = BenchOutput.Round(1_000.0 * transactions / settlements, 1);
            figures["gas_per_settlement_batched"] = (long)figures["gas_batch_100"] / BatchSize;
            figures["tx_per_1000_requests_escrow_batched"] = BenchOutput.Round(1_000.0 * (settlements + transactions) / settlements, 1); // an escrow opened per request
            var (voucherPerSecond, voucherTransactions) = await VouchersAsync(chain, settlements).ConfigureAwait(false);
            figures["voucher_settled_requests_per_s"] = BenchOutput.Round(voucherPerSecond, 1);
            figures["voucher_tx_per_1000_settlements"] = BenchOutput.Round(1_000.0 * voucherTransactions / settlements, 1);
            figures["gas_per_settlement_voucher"] = ((long)figures["gas_fund_channel"] + ((long)figures["gas_redeem_voucher"] * ((settlements + BatchSize - 1) / BatchSize))) / settlements;
            BenchOutput.Print(figures);
            return 0;
        }
        finally
        {
            await chain.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Opens the escrows (not timed), passes the window, then times settling them in batches.</summary>
    private static async Task<(double PerSecond, int Transactions)> SettleAsync(AnvilChain chain, int count)
    {
        await using var h = await EvmHarness.StartAsync(chain).ConfigureAwait(false);
        using var node = Ed25519KeyPair.Generate();
        using var client = Ed25519KeyPair.Generate();
        await h.FundAsync(node.PeerId, h.Parameters.MinimumStake).ConfigureAwait(false);
        Require(await h.Evm.StakeAsync(OperationId.New(), node.PeerId, h.Parameters.MinimumStake).ConfigureAwait(false));
        await h.FundAsync(client.PeerId, TokenAmount.FromTokens((ulong)count * 2)).ConfigureAwait(false);
        var pairs = new List<(SignedMessage<InferenceRequest>, SignedMessage<InferenceReceipt>)>(count);
        for (int i = 0; i < count; i++)
        {
            var request = EvidenceFactory.Request(client, (ulong)i, TokenAmount.FromTokens(2));
            Require(await h.Evm.OpenEscrowAsync(OperationId.New(), new RequestId(request.Hash), client.PeerId, node.PeerId, TokenAmount.FromTokens(2)).ConfigureAwait(false));
            pairs.Add((request, EvidenceFactory.Receipt(node, request, TokenAmount.FromTokens(1))));
        }

        await h.AdvanceTimeAsync(h.Parameters.DisputeWindow).ConfigureAwait(false);
        int transactions = 0;
        var watch = Stopwatch.StartNew();
        for (int offset = 0; offset < count; offset += BatchSize)
        {
            Require(await h.Evm.SettleBatchAsync(OperationId.New(), node.PeerId, pairs.GetRange(offset, Math.Min(BatchSize, count - offset))).ConfigureAwait(false));
            transactions++;
        }

        double seconds = watch.Elapsed.TotalSeconds;
        var totals = await h.Evm.GetTotalsAsync().ConfigureAwait(false);
        if (!totals.IsConserved || !totals.Escrowed.IsZero)
        {
            throw new InvalidOperationException("settlement left escrows open or broke conservation");
        }

        return (count / seconds, transactions);
    }

    /// <summary>Times paying <paramref name="count"/> requests of 1 token each through one channel: a signed running total per request, a redemption every 100.</summary>
    private static async Task<(double PerSecond, int Transactions)> VouchersAsync(AnvilChain chain, int count)
    {
        await using var h = await EvmHarness.StartAsync(chain).ConfigureAwait(false);
        using var node = Ed25519KeyPair.Generate();
        using var client = Ed25519KeyPair.Generate();
        await h.FundAsync(node.PeerId, TokenAmount.FromTokens(1)).ConfigureAwait(false);
        await h.FundAsync(client.PeerId, TokenAmount.FromTokens((ulong)count)).ConfigureAwait(false);
        var before = await h.Evm.GetBalanceAsync(node.PeerId).ConfigureAwait(false);
        int transactions = 0;
        var watch = Stopwatch.StartNew();
        Require(await h.Evm.FundChannelAsync(OperationId.New(), client.PeerId, node.PeerId, TokenAmount.FromTokens((ulong)count)).ConfigureAwait(false));
        transactions++;
        for (int i = 1; i <= count; i++)
        {
            var voucher = await h.Evm.SignVoucherAsync(client.PeerId, node.PeerId, TokenAmount.FromTokens((ulong)i)).ConfigureAwait(false); // after each answer
            if (i % BatchSize == 0 || i == count)
            {
                Require(await h.Evm.RedeemVoucherAsync(OperationId.New(), voucher, node.PeerId).ConfigureAwait(false));
                transactions++;
            }
        }

        double seconds = watch.Elapsed.TotalSeconds;
        var paid = TokenAmount.FromTokens((ulong)count);
        if (await h.Evm.GetBalanceAsync(node.PeerId).ConfigureAwait(false) != before + paid - paid.MultiplyFraction(h.Parameters.ProtocolFeeBps, 10_000))
        {
            throw new InvalidOperationException("the vouchers did not pay exactly what the requests cost");
        }

        return (count / seconds, transactions);
    }

    private static async Task<double> TransfersAsync(AnvilChain chain, int count, CancellationToken cancellationToken)
    {
        using var manager = await chain.DeployAsync(PoIP.Economics.Parameters.EconomicParameters.Default).ConfigureAwait(false);
        string from = EvmAccounts.NewPrivateKey();
        string to = EvmAccounts.AddressOf(EvmAccounts.NewPrivateKey());
        await chain.AddNativeAsync(EvmAccounts.AddressOf(from), AnvilChain.Gas).ConfigureAwait(false);
        var key = new Nethereum.Signer.EthECKey(from[2..]);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            Require(await manager.Chain.SendDataAsync(key, to, "0x", 1, cancellationToken).ConfigureAwait(false));
        }

        return count / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Throws unless <paramref name="result"/> was applied.</summary>
    internal static void Require(EconomicResult result)
    {
        if (!result.IsApplied)
        {
            throw new InvalidOperationException($"{result.Status}: {result.Detail}");
        }
    }
}

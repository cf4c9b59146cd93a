using System.Numerics;
using System.Security.Cryptography;
using Nethereum.Signer;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Economics.Evm;
using PoIP.Economics.Parameters;
using PoIP.Testing.Economics;

namespace PoIP.Economics.IntegrationTests;

/// <summary>What only the chain back end has (EIP-712, batches, identity binding) and the contract's own refusals, sent raw past the client's checks.</summary>
public sealed class EvmLedgerTests(AnvilChain chain) : IClassFixture<AnvilChain>
{
    private static TokenAmount Tokens(ulong tokens) => TokenAmount.FromTokens(tokens);

    [Fact]
    public async Task Eip712Digests_EveryType_EqualTheContracts()
    {
        await using var h = await EvmHarness.StartAsync(chain);
        var m = h.Evm;
        Assert.Equal(m.DomainSeparator, await m.Chain.QueryAsync<DomainSeparatorFunction, byte[]>(new DomainSeparatorFunction(), default));
        for (int i = 0; i < 4; i++)
        {
            var receipt = RandomReceipt();
            Assert.Equal(m.ReceiptDigest(receipt), await m.Chain.QueryAsync<HashReceiptFunction, byte[]>(new HashReceiptFunction { Receipt = receipt }, default));
            var batch = Enumerable.Range(0, i).Select(_ => RandomReceipt()).ToList();
            string node = RandomAddress();
            Assert.Equal(m.ReceiptBatchDigest(node, batch), await m.Chain.QueryAsync<HashReceiptBatchFunction, byte[]>(new HashReceiptBatchFunction { Node = node, Receipts = batch }, default));
            var verdict = new VerdictStruct { ReceiptId = RandomNumberGenerator.GetBytes(32), RequestId = RandomNumberGenerator.GetBytes(32), Node = RandomAddress(), Validator = RandomAddress(), Outcome = (byte)i };
            Assert.Equal(m.VerdictDigest(verdict), await m.Chain.QueryAsync<HashVerdictFunction, byte[]>(new HashVerdictFunction { Verdict = verdict }, default));
            var voucher = new VoucherStruct { Client = RandomAddress(), Node = RandomAddress(), Total = new BigInteger(RandomNumberGenerator.GetBytes(24), isUnsigned: true) };
            Assert.Equal(m.VoucherDigest(voucher), await m.Chain.QueryAsync<HashVoucherFunction, byte[]>(new HashVoucherFunction { Voucher = voucher }, default));
        }
    }

    [Fact]
    public async Task SettleBatch_HundredEscrows_OneTransactionAndAllOrNothing()
    {
        await using var h = await EvmHarness.StartAsync(chain);
        using var node = Ed25519KeyPair.Generate();
        using var client = Ed25519KeyPair.Generate();
        using var other = Ed25519KeyPair.Generate();
        await StakeNodeAsync(h, node);
        await h.FundAsync(client.PeerId, Tokens(1_000));
        await h.FundAsync(other.PeerId, Tokens(1));
        var settlements = new List<(SignedMessage<InferenceRequest>, SignedMessage<InferenceReceipt>)>();
        for (ulong i = 0; i < 100; i++)
        {
            var request = EvidenceFactory.Request(client, i, Tokens(2));
            Assert.True((await h.Evm.OpenEscrowAsync(OperationId.New(), new RequestId(request.Hash), client.PeerId, node.PeerId, Tokens(2))).IsApplied);
            settlements.Add((request, EvidenceFactory.Receipt(node, request, Tokens(1))));
        }

        await h.AdvanceTimeAsync(h.Parameters.DisputeWindow);

        // Front-running: one of the batch's escrows is settled on its own first; the whole batch then reverts.
        Assert.True((await h.Evm.SettleEscrowAsync(OperationId.New(), settlements[50].Item1, settlements[50].Item2)).IsApplied);
        var before = await h.Evm.GetTotalsAsync();
        Assert.Equal(EconomicStatus.UnknownEscrow, (await h.Evm.SettleBatchAsync(OperationId.New(), node.PeerId, settlements)).Status);
        Assert.Equal(before, await h.Evm.GetTotalsAsync());
        Assert.Equal(EscrowState.Open, (await h.Evm.GetEscrowAsync(new RequestId(settlements[0].Item1.Hash)))!.State);

        settlements.RemoveAt(50);
        var blockBefore = await chain.Web3.Eth.Blocks.GetBlockNumber.SendRequestAsync();
        Assert.True((await h.Evm.SettleBatchAsync(OperationId.New(), node.PeerId, settlements)).IsApplied);
        Assert.Equal(blockBefore.Value + 1, (await chain.Web3.Eth.Blocks.GetBlockNumber.SendRequestAsync()).Value); // one transaction
        foreach (var (request, _) in settlements)
        {
            Assert.Equal(EscrowState.Settled, (await h.Evm.GetEscrowAsync(new RequestId(request.Hash)))!.State);
        }

        var fee = Tokens(1).MultiplyFraction(h.Parameters.ProtocolFeeBps, 10_000);
        Assert.Equal(before.PublicFund + new TokenAmount(fee.BaseUnits * 99), (await h.Evm.GetTotalsAsync()).PublicFund);
        Assert.True((await h.Evm.GetTotalsAsync()).IsConserved);
    }

    [Fact]
    public async Task Settle_SignaturesTheContractMustRefuse_RefusedByTheContractItself()
    {
        await using var h = await EvmHarness.StartAsync(chain);
        using var node = Ed25519KeyPair.Generate();
        using var client = Ed25519KeyPair.Generate();
        await StakeNodeAsync(h, node);
        await h.FundAsync(client.PeerId, Tokens(100));
        var request = EvidenceFactory.Request(client, 1, Tokens(10));
        var requestId = new RequestId(request.Hash);
        Assert.True((await h.Evm.OpenEscrowAsync(OperationId.New(), requestId, client.PeerId, node.PeerId, Tokens(10))).IsApplied);
        string nodeAddress = h.Accounts.AddressOf(node.PeerId)!;
        Assert.True(h.Accounts.TryGetKey(node.PeerId, out var nodeKey));
        Assert.True(h.Accounts.TryGetKey(client.PeerId, out var clientKey));
        var receipt = new ReceiptStruct { RequestId = requestId.Digest.ToArray(), ReceiptId = RandomNumberGenerator.GetBytes(32), Node = nodeAddress, Price = (BigInteger)Tokens(4).BaseUnits };
        var good = EvmStakeManager.Sign(nodeKey, h.Evm.ReceiptDigest(receipt));

        // Exactly one second before the window's end: too early; at the end: allowed.
        var opened = (await h.Evm.GetEscrowAsync(requestId))!.OpenedAt;
        await chain.AdvanceTimeAsync(h.Parameters.DisputeWindow - TimeSpan.FromSeconds(1));
        Assert.Equal(EconomicStatus.NotAllowed, await SettleRawAsync(h, clientKey, receipt, good));
        await chain.AdvanceTimeAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(opened + h.Parameters.DisputeWindow, await h.Evm.Chain.NowAsync(default));

        var otherChain = new Eip712Digests(h.Evm.ChainId + 1, h.Evm.ContractAddress);
        var otherContract = new Eip712Digests(h.Evm.ChainId, "0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20)));
        byte[] forged = RandomNumberGenerator.GetBytes(65);
        forged[64] = 27;
        Assert.Equal(EconomicStatus.InvalidReceipt, await SettleRawAsync(h, clientKey, receipt, EvmStakeManager.Sign(nodeKey, otherChain.Receipt(receipt))));
        Assert.Equal(EconomicStatus.InvalidReceipt, await SettleRawAsync(h, clientKey, receipt, EvmStakeManager.Sign(nodeKey, otherContract.Receipt(receipt))));
        Assert.Equal(EconomicStatus.InvalidReceipt, await SettleRawAsync(h, clientKey, receipt, EvmStakeManager.Sign(clientKey, h.Evm.ReceiptDigest(receipt))));
        Assert.Equal(EconomicStatus.InvalidReceipt, await SettleRawAsync(h, clientKey, receipt, forged));
        var higher = new ReceiptStruct { RequestId = receipt.RequestId, ReceiptId = receipt.ReceiptId, Node = nodeAddress, Price = (BigInteger)Tokens(9).BaseUnits };
        Assert.Equal(EconomicStatus.InvalidReceipt, await SettleRawAsync(h, clientKey, higher, good)); // the price was not what the node signed
        var over = new ReceiptStruct { RequestId = receipt.RequestId, ReceiptId = receipt.ReceiptId, Node = nodeAddress, Price = (BigInteger)Tokens(11).BaseUnits };
        Assert.Equal(EconomicStatus.InvalidAmount, await SettleRawAsync(h, clientKey, over, EvmStakeManager.Sign(nodeKey, h.Evm.ReceiptDigest(over))));
        Assert.Equal(EscrowState.Open, (await h.Evm.GetEscrowAsync(requestId))!.State);

        Assert.Equal(EconomicStatus.Applied, await SettleRawAsync(h, clientKey, receipt, good));
        Assert.Equal(EconomicStatus.UnknownEscrow, await SettleRawAsync(h, clientKey, receipt, good)); // the signature replayed
    }

    [Fact]
    public async Task SlashByVerdict_UnregisteredValidatorsSignature_RefusedByTheContract()
    {
        await using var h = await EvmHarness.StartAsync(chain);
        using var node = Ed25519KeyPair.Generate();
        using var stranger = Ed25519KeyPair.Generate();
        await StakeNodeAsync(h, node);
        await h.FundAsync(stranger.PeerId, Tokens(1));
        Assert.True(h.Accounts.TryGetKey(stranger.PeerId, out var strangerKey));
        var verdict = new VerdictStruct
        {
            ReceiptId = RandomNumberGenerator.GetBytes(32),
            RequestId = RandomNumberGenerator.GetBytes(32),
            Node = h.Accounts.AddressOf(node.PeerId)!,
            Validator = strangerKey.GetPublicAddress(),
            Outcome = 2,
        };
        var before = await h.Evm.GetTotalsAsync();

        var result = await h.Evm.Chain.SendAsync(strangerKey, new SlashByVerdictFunction { Op = OperationId.New().Value.ToByteArray(), Verdict = verdict, Signature = EvmStakeManager.Sign(strangerKey, h.Evm.VerdictDigest(verdict)) }, 0, default);

        Assert.Equal(EconomicStatus.InvalidEvidence, result.Status);
        Assert.Equal(before, await h.Evm.GetTotalsAsync());
    }

    [Fact]
    public async Task BindIdentity_Ed25519SignatureOverChainContractAccountDeadline_CheckableOffChain()
    {
        await using var h = await EvmHarness.StartAsync(chain);
        using var peer = Ed25519KeyPair.Generate();
        using var other = Ed25519KeyPair.Generate();
        await h.FundAsync(peer.PeerId, Tokens(1));
        string account = h.Accounts.AddressOf(peer.PeerId)!;

        Assert.True((await h.Evm.BindIdentityAsync(peer, TimeSpan.FromHours(1))).IsApplied);
        Assert.Equal(EconomicStatus.NotAllowed, (await h.Evm.BindIdentityAsync(peer, TimeSpan.FromHours(1))).Status); // once per account

        ulong deadline = 1_800_000_000;
        byte[] signature = peer.Sign(EvmStakeManager.BindingMessage(h.Evm.ChainId, h.Evm.ContractAddress, account, deadline));
        Assert.True(h.Evm.IsBindingValid(peer.PeerId, account, deadline, signature));
        Assert.False(h.Evm.IsBindingValid(other.PeerId, account, deadline, signature));
        Assert.False(h.Evm.IsBindingValid(peer.PeerId, account, deadline + 1, signature));
        Assert.False(h.Evm.IsBindingValid(peer.PeerId, "0x" + new string('1', 40), deadline, signature));
    }

    private static async Task StakeNodeAsync(EvmHarness h, Ed25519KeyPair node)
    {
        await h.FundAsync(node.PeerId, h.Parameters.MinimumStake);
        Assert.True((await h.Evm.StakeAsync(OperationId.New(), node.PeerId, h.Parameters.MinimumStake)).IsApplied);
    }

    private static async Task<EconomicStatus> SettleRawAsync(EvmHarness h, EthECKey sender, ReceiptStruct receipt, byte[] signature) =>
        (await h.Evm.Chain.SendAsync(sender, new SettleFunction { Op = OperationId.New().Value.ToByteArray(), Receipt = receipt, Signature = signature }, 0, default)).Status;

    private static ReceiptStruct RandomReceipt() => new()
    {
        RequestId = RandomNumberGenerator.GetBytes(32),
        ReceiptId = RandomNumberGenerator.GetBytes(32),
        Node = RandomAddress(),
        Price = new BigInteger(RandomNumberGenerator.GetBytes(20), isUnsigned: true),
    };

    private static string RandomAddress() => "0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
}

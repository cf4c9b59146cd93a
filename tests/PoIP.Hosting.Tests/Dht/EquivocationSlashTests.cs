using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Ledger;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Economics.Embedded;
using PoIP.Economics.Parameters;
using PoIP.Hosting.Validation;
using PoIP.Network.Kademlia;
using PoIP.Network.Transactions;
using PoIP.TestUtils;
using PoIP.TestUtils.Dht;

namespace PoIP.Hosting.Tests.Dht;

/// <summary>
/// The transaction layer end to end, without engines: a node's two different receipts for one request reach the
/// DHT; the ledger reports the conflict with its evidence, and a validator serving the DHT slashes the node from
/// what it sees there (the existing slashing path re-checks the evidence).
/// </summary>
public sealed class EquivocationSlashTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new(SampleMessages.Now);
    private readonly EmbeddedStakeManager _stakes;
    private readonly Ed25519KeyPair _client = Ed25519KeyPair.Generate();
    private readonly Ed25519KeyPair _node = Ed25519KeyPair.Generate();
    private readonly Ed25519KeyPair _validator = Ed25519KeyPair.Generate();

    public EquivocationSlashTests() =>
        _stakes = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = ":memory:", InitialParameters = EconomicParameters.Default, TimeProvider = _clock });

    [Fact]
    public async Task NodeSignsTwoReceiptsForOneRequest_ValidatorSeesItInTheDht_NodeSlashedOnce()
    {
        await FundAsync(_node.PeerId, stake: 200);
        await FundAsync(_validator.PeerId, stake: 100);
        var stakeBefore = (await _stakes.GetStakeAsync(_node.PeerId)).Bonded;

        var network = new InMemoryDhtNetwork(_clock);
        var feed = new DhtAuditFeed(new ValidatorServiceOptions
        {
            Key = _validator,
            Verifier = new NoVerifier(),
            Stakes = _stakes,
            AuditProbability = AuditSelectionProbability.FromDouble(1.0),
            TimeProvider = _clock,
        });
        var slashes = new List<DhtRecordAudit>();
        feed.Audited += (_, audit) =>
        {
            if (audit.Equivocation)
            {
                slashes.Add(audit);
            }
        };
        Join(network, _validator.PeerId, feed.OnRecordStoredAsync);
        var nodeDht = Join(network, _node.PeerId, null);
        for (int i = 0; i < 3; i++)
        {
            Join(network, Ed25519KeyPair.Generate().PeerId, null);
        }

        var request = TransactionRecords.Request(_client);
        var ledger = new DhtTransactionLedger(nodeDht, new DhtTransactionLedgerOptions { TimeProvider = _clock });
        var first = await ledger.PutAsync(TransactionRecords.NodeRecord(_node, request, TransactionRecords.Receipt(_node, request, 0)));
        var second = await ledger.PutAsync(TransactionRecords.NodeRecord(_node, request, TransactionRecords.Receipt(_node, request, 1)));

        Assert.Equal(LedgerPutStatus.Stored, first.Status);
        Assert.Equal(LedgerPutStatus.Conflict, second.Status);
        Assert.Equal(EvidenceKind.Equivocation, second.Equivocation!.Kind);
        var slash = Assert.Single(slashes);
        Assert.Equal(_node.PeerId, slash.Node);
        Assert.True(slash.Slash!.IsApplied, slash.Slash.Detail);
        Assert.True((await _stakes.GetStakeAsync(_node.PeerId)).Bonded < stakeBefore);

        // the same evidence seen again (another put, another peer's copy) slashes nobody twice
        var stakeAfter = (await _stakes.GetStakeAsync(_node.PeerId)).Bonded;
        await ledger.PutAsync(TransactionRecords.ClientRecord(_client, request, null));
        Assert.Single(slashes);
        Assert.Equal(stakeAfter, (await _stakes.GetStakeAsync(_node.PeerId)).Bonded);
    }

    [Fact]
    public async Task LedgerConflictEvidence_SignedByAnyChallenger_AcceptedBySlashing()
    {
        await FundAsync(_node.PeerId, stake: 200);
        await FundAsync(_validator.PeerId, stake: 0);
        var network = new InMemoryDhtNetwork(_clock);
        var dht = Join(network, _client.PeerId, null);
        Join(network, _node.PeerId, null);
        var request = TransactionRecords.Request(_client);
        var ledger = new DhtTransactionLedger(dht, new DhtTransactionLedgerOptions { TimeProvider = _clock });
        await ledger.PutAsync(TransactionRecords.NodeRecord(_node, request, TransactionRecords.Receipt(_node, request, 0)));
        var conflict = await ledger.PutAsync(TransactionRecords.NodeRecord(_node, request, TransactionRecords.Receipt(_node, request, 2)));

        var signed = Core.Protocol.SignedMessage.Create(_validator, conflict.Equivocation!);
        var result = await _stakes.SlashAsync(OperationId.New(), signed, _validator.PeerId);
        Assert.True(result.IsApplied, result.Detail);
    }

    [Fact]
    public async Task DhtAuditFeed_NodeReceiptInTheDht_DrawnByTheVerifiableRule()
    {
        var network = new InMemoryDhtNetwork(_clock);
        var feed = new DhtAuditFeed(new ValidatorServiceOptions { Key = _validator, Verifier = new NoVerifier(), Stakes = _stakes, AuditProbability = AuditSelectionProbability.FromDouble(1.0) });
        var drawn = new List<DhtRecordAudit>();
        feed.Audited += (_, a) => drawn.Add(a);
        Join(network, _validator.PeerId, feed.OnRecordStoredAsync);
        var request = TransactionRecords.Request(_client);
        var receipt = TransactionRecords.Receipt(_node, request);
        var ledger = new DhtTransactionLedger(Join(network, _node.PeerId, null), new DhtTransactionLedgerOptions { TimeProvider = _clock });
        await ledger.PutAsync(TransactionRecords.NodeRecord(_node, request, receipt));

        var audit = Assert.Single(drawn);
        Assert.False(audit.Equivocation);
        Assert.Equal(new Core.Hashing.ReceiptId(receipt.Hash), audit.Receipt);
        Assert.True(AuditSelection.Verify(audit.Ticket!));
        Assert.True(audit.Ticket!.Selected);
        Assert.Contains(audit.Receipt, feed.Selected.Keys);
    }

    public void Dispose()
    {
        _stakes.Dispose();
        _client.Dispose();
        _node.Dispose();
        _validator.Dispose();
    }

    private static InMemoryDhtNetwork.Peer Join(InMemoryDhtNetwork network, PeerId id, Func<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>, CancellationToken, ValueTask>? stored)
    {
        var options = new KademliaOptions { RecordStored = stored };
        options.Namespaces.Add(new PoIPRecordNamespace());
        return network.Join(id, options);
    }

    private async Task FundAsync(PeerId account, int stake)
    {
        Assert.True((await _stakes.DepositAsync(OperationId.New(), account, TokenAmount.FromTokens(1000))).IsApplied);
        if (stake > 0)
        {
            Assert.True((await _stakes.StakeAsync(OperationId.New(), account, TokenAmount.FromTokens((ulong)stake))).IsApplied);
        }
    }

    private sealed class NoVerifier : IProofVerifier
    {
        public Task<VerificationResult> VerifyAsync(VerificationCase verificationCase, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("DHT records carry no transcript; nothing is re-executed here.");
    }
}

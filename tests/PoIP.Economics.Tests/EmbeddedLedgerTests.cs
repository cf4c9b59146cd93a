using Microsoft.Data.Sqlite;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Embedded;
using PoIP.Economics.Parameters;
using PoIP.Testing.Economics;

namespace PoIP.Economics.Tests;

/// <summary>Behaviour specific to the embedded back end: accounts, persistence, journal, validator rule, refunds.</summary>
public sealed class EmbeddedLedgerTests
{
    private static TokenAmount Tokens(ulong n) => TokenAmount.FromTokens(n);

    [Fact]
    public async Task Reopen_AfterOperations_StatePersistsAndIdsStayDuplicate()
    {
        await using var h = new EmbeddedHarness();
        using var a = Ed25519KeyPair.Generate();
        var op = OperationId.New();
        Assert.True((await h.Embedded.DepositAsync(op, a.PeerId, Tokens(10))).IsApplied);
        Assert.True((await h.Embedded.StakeAsync(OperationId.New(), a.PeerId, Tokens(4))).IsApplied);

        h.Reopen();

        Assert.Equal(Tokens(6), await h.Embedded.GetBalanceAsync(a.PeerId));
        Assert.Equal(Tokens(4), (await h.Embedded.GetStakeAsync(a.PeerId)).Bonded);
        Assert.Equal(EconomicStatus.DuplicateOperation, (await h.Embedded.DepositAsync(op, a.PeerId, Tokens(10))).Status);
        Assert.True(await h.Embedded.WasAppliedAsync(op));
        Assert.Equal(Tokens(10), (await h.Embedded.GetTotalsAsync()).Supply);
    }

    [Fact]
    public async Task VerifyJournal_TableEditedBehindItsBack_ReportsDifference()
    {
        var h = new EmbeddedHarness();
        using var a = Ed25519KeyPair.Generate();
        Assert.True((await h.Embedded.DepositAsync(OperationId.New(), a.PeerId, Tokens(10))).IsApplied);
        Assert.True((await h.Embedded.VerifyJournalAsync()).Matches);

        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = h.Options.DatabasePath, Pooling = false }.ToString()))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE accounts SET balance = $b";
            command.Parameters.AddWithValue("$b", new byte[16]);
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        var check = await h.Embedded.VerifyJournalAsync();
        Assert.False(check.Matches);
        Assert.Contains("accounts", check.Difference, StringComparison.Ordinal);
        h.Embedded.Dispose();
    }

    [Fact]
    public async Task Accounts_TransferWithdrawAndBadInput_TypedResultsAndConservation()
    {
        await using var h = new EmbeddedHarness();
        using var a = Ed25519KeyPair.Generate();
        using var b = Ed25519KeyPair.Generate();
        using var stranger = Ed25519KeyPair.Generate();
        Assert.True((await h.Embedded.DepositAsync(OperationId.New(), a.PeerId, Tokens(10))).IsApplied);
        Assert.True((await h.Embedded.CreateAccountAsync(OperationId.New(), b.PeerId)).IsApplied);

        Assert.Equal(EconomicStatus.NotAllowed, (await h.Embedded.CreateAccountAsync(OperationId.New(), b.PeerId)).Status);
        Assert.Equal(EconomicStatus.UnknownAccount, (await h.Embedded.TransferAsync(OperationId.New(), a.PeerId, stranger.PeerId, Tokens(1))).Status);
        Assert.Equal(EconomicStatus.UnknownAccount, (await h.Embedded.TransferAsync(OperationId.New(), stranger.PeerId, a.PeerId, Tokens(1))).Status);
        Assert.Equal(EconomicStatus.InsufficientFunds, (await h.Embedded.TransferAsync(OperationId.New(), a.PeerId, b.PeerId, Tokens(11))).Status);
        Assert.Equal(EconomicStatus.InvalidAmount, (await h.Embedded.TransferAsync(OperationId.New(), a.PeerId, b.PeerId, TokenAmount.Zero)).Status);
        Assert.Equal(EconomicStatus.InvalidAmount, (await h.Embedded.DepositAsync(OperationId.New(), a.PeerId, new TokenAmount(UInt128.MaxValue))).Status);
        Assert.Equal(EconomicStatus.UnknownAccount, (await h.Embedded.DepositAsync(OperationId.New(), default, Tokens(1))).Status);
        Assert.Equal(Tokens(10), (await h.Embedded.GetTotalsAsync()).Supply);

        Assert.True((await h.Embedded.TransferAsync(OperationId.New(), a.PeerId, b.PeerId, Tokens(3))).IsApplied);
        Assert.True((await h.Embedded.WithdrawAsync(OperationId.New(), b.PeerId, Tokens(2))).IsApplied);
        Assert.Equal(EconomicStatus.InsufficientFunds, (await h.Embedded.WithdrawAsync(OperationId.New(), b.PeerId, Tokens(2))).Status);

        Assert.Equal((Tokens(7), Tokens(1)), (await h.Embedded.GetBalanceAsync(a.PeerId), await h.Embedded.GetBalanceAsync(b.PeerId)));
        var totals = await h.Embedded.GetTotalsAsync();
        Assert.Equal(Tokens(8), totals.Supply);
        Assert.True(totals.IsConserved);
    }

    [Fact]
    public async Task Slash_VerdictFromUnregisteredValidator_RefusedUnlessRuleDisabled()
    {
        foreach (bool require in new[] { true, false })
        {
            await using var h = new EmbeddedHarness(requireRegisteredValidator: require);
            using var node = Ed25519KeyPair.Generate();
            using var client = Ed25519KeyPair.Generate();
            using var validator = Ed25519KeyPair.Generate();
            await h.FundAsync(node.PeerId, Tokens(200));
            await h.FundAsync(validator.PeerId, Tokens(1));
            Assert.True((await h.Embedded.StakeAsync(OperationId.New(), node.PeerId, Tokens(200))).IsApplied);
            var request = EvidenceFactory.Request(client, 1, Tokens(1));
            var receipt = EvidenceFactory.Receipt(node, request, Tokens(1));
            var evidence = EvidenceFactory.Fraud(validator, node.PeerId, EvidenceFactory.Verdict(validator, receipt, node.PeerId), request, receipt);

            var result = await h.Embedded.SlashAsync(OperationId.New(), evidence, validator.PeerId);

            Assert.Equal(require ? EconomicStatus.InvalidEvidence : EconomicStatus.Applied, result.Status);
            Assert.Equal(require ? Tokens(200) : Tokens(100), (await h.Embedded.GetStakeAsync(node.PeerId)).Bonded);
        }
    }

    [Fact]
    public async Task Slash_GarbageOrMissingEnclosedEnvelopes_InvalidEvidenceNoThrow()
    {
        await using var h = new EmbeddedHarness();
        using var node = Ed25519KeyPair.Generate();
        using var challenger = Ed25519KeyPair.Generate();
        await h.FundAsync(node.PeerId, Tokens(200));
        await h.FundAsync(challenger.PeerId, Tokens(1));
        Assert.True((await h.Embedded.StakeAsync(OperationId.New(), node.PeerId, Tokens(200))).IsApplied);
        byte[] garbage = [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 7))];
        var cases = new[]
        {
            new PoIP.Core.Proofs.Evidence { Kind = PoIP.Core.Proofs.EvidenceKind.FraudVerdict, AccusedId = node.PeerId, First = garbage },
            new PoIP.Core.Proofs.Evidence { Kind = PoIP.Core.Proofs.EvidenceKind.FraudVerdict, AccusedId = node.PeerId, First = ReadOnlyMemory<byte>.Empty },
            new PoIP.Core.Proofs.Evidence { Kind = PoIP.Core.Proofs.EvidenceKind.Equivocation, AccusedId = node.PeerId, First = garbage, Second = garbage },
        };

        foreach (var evidence in cases)
        {
            var signed = PoIP.Core.Protocol.SignedMessage.Create(challenger, evidence);
            Assert.Equal(EconomicStatus.InvalidEvidence, (await h.Embedded.SlashAsync(OperationId.New(), signed, challenger.PeerId)).Status);
        }

        Assert.Equal(Tokens(200), (await h.Embedded.GetStakeAsync(node.PeerId)).Bonded);
    }

    [Fact]
    public async Task Slash_ChallengerWithoutAccount_UnknownAccountEvidenceStillUsable()
    {
        await using var h = new EmbeddedHarness();
        using var node = Ed25519KeyPair.Generate();
        using var client = Ed25519KeyPair.Generate();
        using var challenger = Ed25519KeyPair.Generate();
        await h.FundAsync(node.PeerId, Tokens(200));
        Assert.True((await h.Embedded.StakeAsync(OperationId.New(), node.PeerId, Tokens(200))).IsApplied);
        var request = EvidenceFactory.Request(client, 1, Tokens(1));
        var evidence = EvidenceFactory.Equivocation(
            challenger,
            node.PeerId,
            EvidenceFactory.Record(node, request, EvidenceFactory.Receipt(node, request, Tokens(1))),
            EvidenceFactory.Record(node, request, EvidenceFactory.Receipt(node, request, Tokens(1), variant: 1)));

        Assert.Equal(EconomicStatus.UnknownAccount, (await h.Embedded.SlashAsync(OperationId.New(), evidence, challenger.PeerId)).Status);
        Assert.Equal(Tokens(200), (await h.Embedded.GetStakeAsync(node.PeerId)).Bonded);

        Assert.True((await h.Embedded.CreateAccountAsync(OperationId.New(), challenger.PeerId)).IsApplied);
        Assert.True((await h.Embedded.SlashAsync(OperationId.New(), evidence, challenger.PeerId)).IsApplied);
        Assert.Equal(Tokens(100), (await h.Embedded.GetStakeAsync(node.PeerId)).Bonded);
    }

    [Fact]
    public async Task RegisterValidator_WithoutMinimumStake_InsufficientStake()
    {
        await using var h = new EmbeddedHarness();
        using var v = Ed25519KeyPair.Generate();
        await h.FundAsync(v.PeerId, Tokens(1_000));
        Assert.True((await h.Embedded.StakeAsync(OperationId.New(), v.PeerId, Tokens(99))).IsApplied);

        Assert.Equal(EconomicStatus.InsufficientStake, (await h.Embedded.RegisterValidatorAsync(OperationId.New(), v.PeerId)).Status);
        Assert.True((await h.Embedded.StakeAsync(OperationId.New(), v.PeerId, Tokens(1))).IsApplied);
        Assert.True((await h.Embedded.RegisterValidatorAsync(OperationId.New(), v.PeerId)).IsApplied);
        Assert.True(await h.Embedded.IsValidatorAsync(v.PeerId));
        Assert.True(await h.Embedded.CanServeAsync(v.PeerId));
    }

    [Fact]
    public async Task RefundEscrow_WithoutFraud_OnlyAfterTwiceTheDisputeWindow()
    {
        await using var h = new EmbeddedHarness();
        using var node = Ed25519KeyPair.Generate();
        using var client = Ed25519KeyPair.Generate();
        await h.FundAsync(node.PeerId, Tokens(100));
        await h.FundAsync(client.PeerId, Tokens(10));
        Assert.True((await h.Embedded.StakeAsync(OperationId.New(), node.PeerId, Tokens(100))).IsApplied);
        var request = RequestId.FromEnvelope([7]);
        Assert.True((await h.Embedded.OpenEscrowAsync(OperationId.New(), request, client.PeerId, node.PeerId, Tokens(10))).IsApplied);

        h.Clock.Advance(h.Parameters.DisputeWindow);
        Assert.Equal(EconomicStatus.NotAllowed, (await h.Embedded.RefundEscrowAsync(OperationId.New(), request)).Status);
        h.Clock.Advance(h.Parameters.DisputeWindow);
        Assert.True((await h.Embedded.RefundEscrowAsync(OperationId.New(), request)).IsApplied);

        Assert.Equal(Tokens(10), await h.Embedded.GetBalanceAsync(client.PeerId));
        Assert.Equal(EconomicStatus.UnknownEscrow, (await h.Embedded.RefundEscrowAsync(OperationId.New(), request)).Status);
    }

    [Fact]
    public void Open_InvalidOptions_Throws()
    {
        Assert.Throws<ArgumentException>(() => EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions()));
        Assert.Throws<ArgumentException>(() => EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions
        {
            DatabasePath = ":memory:",
            InitialParameters = EconomicParameters.Default with { ChallengerShareBps = 5_000, PublicFundShareBps = 6_000 },
        }));
        Assert.Throws<ArgumentException>(() => EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions
        {
            DatabasePath = ":memory:",
            InitialParameters = EconomicParameters.Default with { DisputeWindow = TimeSpan.FromSeconds(1) },
        }));
    }

    [Fact]
    public async Task ConcurrentTransfersBetweenTwoAccounts_NoMoneyLostOrCreated()
    {
        await using var h = new EmbeddedHarness();
        using var a = Ed25519KeyPair.Generate();
        using var b = Ed25519KeyPair.Generate();
        await h.FundAsync(a.PeerId, Tokens(50));
        await h.FundAsync(b.PeerId, Tokens(50));

        var tasks = Enumerable.Range(0, 200).Select(i => Task.Run(() => i % 2 == 0
            ? h.Embedded.TransferAsync(OperationId.New(), a.PeerId, b.PeerId, Tokens(3))
            : h.Embedded.TransferAsync(OperationId.New(), b.PeerId, a.PeerId, Tokens(2))));
        var results = await Task.WhenAll(tasks);

        Assert.All(results, r => Assert.True(r.IsApplied || r.Status == EconomicStatus.InsufficientFunds));
        int ab = results.Where((r, i) => i % 2 == 0 && r.IsApplied).Count();
        int ba = results.Where((r, i) => i % 2 == 1 && r.IsApplied).Count();
        Assert.Equal(Tokens(50) + Tokens(2 * (ulong)ba) - Tokens(3 * (ulong)ab), await h.Embedded.GetBalanceAsync(a.PeerId));
        Assert.Equal(Tokens(100), await h.Embedded.GetBalanceAsync(a.PeerId) + await h.Embedded.GetBalanceAsync(b.PeerId));
    }
}

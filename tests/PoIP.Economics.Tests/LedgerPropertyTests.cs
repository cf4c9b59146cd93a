using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Economics.Embedded;
using PoIP.Testing.Economics;

namespace PoIP.Economics.Tests;

/// <summary>
/// Random operation sequences against a real SQLite ledger. After every step: money is conserved,
/// a refused operation changed nothing, a slash never takes more than the accused's stake, evidence
/// is never used twice, a replayed operation id is a duplicate; at the end the journal rebuilds
/// the tables. ~200 runs by default; 10,000 with POIP_LONG_TESTS=1.
/// </summary>
public sealed class LedgerPropertyTests
{
    private static readonly int Runs = Environment.GetEnvironmentVariable("POIP_LONG_TESTS") == "1" ? 10_000 : 200;

    private static readonly TokenAmount[] Amounts =
    [
        TokenAmount.Zero,
        TokenAmount.FromBaseUnits(1),
        TokenAmount.FromTokens(7),
        TokenAmount.FromTokens(50),
        TokenAmount.FromTokens(100),
        TokenAmount.ParseTokens("333.333333333333333333"),
        TokenAmount.FromTokens(1_000_000),
        new TokenAmount(UInt128.MaxValue),
    ];

    private static readonly TimeSpan[] Steps = [TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromDays(4), TimeSpan.FromDays(8)];

    private const int Kinds = 17;

    private static readonly World Fixture = new();

    private static readonly int[] AppliedByKind = new int[Kinds];

    [Fact]
    public void RandomOperationSequences_KeepEveryInvariant()
    {
        var kinds = Gen.Frequency(
            (1, Gen.Constant(0)),
            (4, Gen.Choose(1, 9)),
            (2, Gen.Constant(4)),
            (5, Gen.Constant(5)),
            (5, Gen.Constant(6)),
            (5, Gen.Constant(7)),
            (3, Gen.Constant(8)),
            (2, Gen.Constant(10)),
            (1, Gen.Choose(11, 13)),
            (1, Gen.Constant(14)),
            (2, Gen.Constant(15)),
            (2, Gen.Constant(16)));
        var amounts = Gen.Frequency(
            (1, Gen.Constant(0)),
            (1, Gen.Constant(1)),
            (8, Gen.Choose(2, 5)),
            (3, Gen.Constant(6)),
            (1, Gen.Constant(7)));
        var step = from kind in kinds
                   from a in Gen.Choose(0, 3)
                   from b in Gen.Choose(0, 3)
                   from s in amounts
                   from r in Gen.Choose(0, 7)
                   select kind + (Kinds * (a + (4 * (b + (4 * (s + (8 * r)))))));
        var property = Prop.ForAll(step.ArrayOf().ToArbitrary(), RunSequence);
        Array.Clear(AppliedByKind);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Runs).WithStartSize(20).WithEndSize(80), property);

        // The generator must reach the interesting paths, or the invariants above prove little.
        Console.WriteLine("applied by kind: " + string.Join(',', AppliedByKind));
        Assert.All(new[] { 3, 4, 5, 6, 7, 8, 9, 11, 14, 15, 16 }, kind => Assert.True(AppliedByKind[kind] > 0, $"operation kind {kind} was never applied: {string.Join(',', AppliedByKind)}"));
    }

    private static bool RunSequence(int[] steps)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        using var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = ":memory:", TimeProvider = clock });
        // Prelude, so that the random steps reach escrow, slashing and unbonding: every actor has
        // money, actors 0 and 1 serve (bonded stake), actor 3 is a registered validator.
        Assert.True(Wait(ledger.CreateAccountAsync(OperationId.New(), Fixture.Challenger)).IsApplied);
        foreach (var key in Fixture.Actors)
        {
            Assert.True(Wait(ledger.DepositAsync(OperationId.New(), key.PeerId, TokenAmount.FromTokens(5_000))).IsApplied);
        }

        Assert.True(Wait(ledger.StakeAsync(OperationId.New(), Fixture.Actors[0].PeerId, TokenAmount.FromTokens(1_000))).IsApplied);
        Assert.True(Wait(ledger.StakeAsync(OperationId.New(), Fixture.Actors[1].PeerId, TokenAmount.FromTokens(1_000))).IsApplied);
        if (steps.Length % 2 == 0)
        {
            Assert.True(Wait(ledger.StakeAsync(OperationId.New(), Fixture.Actors[3].PeerId, TokenAmount.FromTokens(100))).IsApplied);
            Assert.True(Wait(ledger.RegisterValidatorAsync(OperationId.New(), Fixture.Actors[3].PeerId)).IsApplied);
        }

        var usedEvidence = new HashSet<int>();
        var opened = new List<int>(); // requests whose escrow opened: a settlement aims at one of them, or settling would rarely apply
        var proposals = new List<Governance.ProposalId>();
        OperationId? lastApplied = null;
        foreach (int step in steps)
        {
            int kind = step % Kinds, a = (step / Kinds) % 4, b = (step / (Kinds * 4)) % 4, s = (step / (Kinds * 16)) % 8, r = (step / (Kinds * 128)) % 8;
            var actor = Fixture.Actors[a].PeerId;
            var other = Fixture.Actors[b].PeerId;
            var amount = Amounts[s];
            var op = OperationId.New();
            var before = Snapshot(ledger);
            TokenAmount slashableBefore = default;
            int evidenceIndex = s % Fixture.Evidence.Length;
            PeerId accused = Fixture.Evidence[evidenceIndex].Message.AccusedId;
            if (kind == 9)
            {
                slashableBefore = Slashable(ledger, accused);
            }

            if (kind == 7 && opened.Count > 0)
            {
                r = opened[(r + s) % opened.Count];
            }

            var result = kind switch
            {
                0 => Wait(ledger.DepositAsync(op, actor, amount)),
                1 => Wait(ledger.TransferAsync(op, actor, other, amount)),
                2 => Wait(ledger.WithdrawAsync(op, actor, amount)),
                3 => Wait(ledger.StakeAsync(op, actor, amount)),
                4 => Wait(ledger.RequestUnbondAsync(op, actor, amount)),
                5 => Wait(ledger.WithdrawUnbondedAsync(op, actor)),
                6 => Wait(ledger.OpenEscrowAsync(op, Fixture.Requests[r], actor, other, amount)),
                7 => Wait(ledger.SettleEscrowAsync(op, Fixture.SignedRequests[r], Fixture.Receipt(r, Wait(ledger.GetEscrowAsync(Fixture.Requests[r]))?.Node ?? other, s))),
                8 => Wait(ledger.RefundEscrowAsync(op, Fixture.Requests[r])),
                9 => Wait(ledger.SlashAsync(op, Fixture.Evidence[evidenceIndex], a == 0 ? actor : Fixture.Challenger)),
                10 => Advance(clock, Steps[b]),
                11 => Wait(ledger.RegisterValidatorAsync(op, actor)),
                12 when lastApplied is { } last => Wait(ledger.StakeAsync(last, actor, TokenAmount.FromBaseUnits(1))),
                12 => EconomicResult.Applied,
                14 => Propose(ledger, op, actor, other, amount, proposals),
                15 when proposals.Count > 0 => Wait(ledger.Governance.VoteAsync(op, proposals[^1], actor, support: b % 2 == 0)),
                16 when proposals.Count > 0 => Wait(ledger.Governance.ExecuteAsync(op, proposals[s % proposals.Count])),
                15 or 16 => Wait(ledger.CreateAccountAsync(op, actor)),
                _ => Wait(ledger.CreateAccountAsync(op, actor)),
            };

            if (kind == 6 && result.IsApplied)
            {
                opened.Add(r);
            }

            var after = Snapshot(ledger);
            Assert.True(after.Totals.IsConserved, $"step {kind}: money not conserved: {after.Totals}");
            if (!result.IsApplied || kind == 12)
            {
                Assert.Equal(before, after);
            }
            else if (kind == 10)
            {
                // Time moves tranches from unbonding to withdrawable, and nothing else.
                Assert.Equal((before.Totals, before.Balances), (after.Totals, after.Balances), EqualityComparer<(EconomicTotals, TokenAmount[])>.Create((x, y) => x.Item1 == y.Item1 && x.Item2.SequenceEqual(y.Item2), x => 0));
            }

            if (kind == 12 && lastApplied is not null)
            {
                Assert.Equal(EconomicStatus.DuplicateOperation, result.Status);
            }

            if (kind == 9)
            {
                var slashableAfter = Slashable(ledger, accused);
                Assert.True(slashableAfter <= slashableBefore, "a slash raised the stake");
                if (result.IsApplied)
                {
                    Assert.True(usedEvidence.Add(evidenceIndex), "evidence used twice");
                    var taken = slashableBefore - slashableAfter;
                    Assert.True(taken <= slashableBefore);
                    var paidOut = (after.Totals.Burned - before.Totals.Burned) + (after.Totals.PublicFund - before.Totals.PublicFund) + (after.Balances[4] - before.Balances[4]);
                    Assert.Equal(taken, paidOut);
                }
                else if (usedEvidence.Contains(evidenceIndex) && a != 0)
                {
                    Assert.Equal(EconomicStatus.EvidenceAlreadyUsed, result.Status);
                }
            }

            if (result.IsApplied && kind is not (10 or 12))
            {
                Interlocked.Increment(ref AppliedByKind[kind]);
                lastApplied = op;
            }
        }

        var check = Wait(ledger.VerifyJournalAsync());
        Assert.True(check.Matches, check.Difference);
        return true;
    }

    private static EconomicResult Propose(EmbeddedStakeManager ledger, OperationId op, PeerId proposer, PeerId recipient, TokenAmount amount, List<Governance.ProposalId> proposals)
    {
        var result = Wait(ledger.Governance.ProposeGrantAsync(op, proposer, recipient, amount));
        if (result.IsApplied)
        {
            proposals.Add(Governance.ProposalId.From(op));
        }

        return result;
    }

    private static EconomicResult Advance(FakeTimeProvider clock, TimeSpan by)
    {
        clock.Advance(by);
        return EconomicResult.Applied;
    }

    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();

    private static TokenAmount Slashable(EmbeddedStakeManager ledger, PeerId node)
    {
        var stake = Wait(ledger.GetStakeAsync(node));
        return stake.Bonded + stake.Unbonding + stake.Withdrawable;
    }

    private static LedgerSnapshot Snapshot(EmbeddedStakeManager ledger) => new(
        Wait(ledger.GetTotalsAsync()),
        [.. Fixture.Actors.Select(k => Wait(ledger.GetBalanceAsync(k.PeerId))), Wait(ledger.GetBalanceAsync(Fixture.Challenger))],
        [.. Fixture.Actors.Select(k => Wait(ledger.GetStakeAsync(k.PeerId)))]);

    private sealed record LedgerSnapshot(EconomicTotals Totals, TokenAmount[] Balances, StakeInfo[] Stakes)
    {
        public bool Equals(LedgerSnapshot? other) =>
            other is not null && Totals == other.Totals && Balances.SequenceEqual(other.Balances) && Stakes.SequenceEqual(other.Stakes);

        public override int GetHashCode() => Totals.GetHashCode();
    }

    /// <summary>Fixed actors and signed evidence shared by every run (signing is the slow part).</summary>
    private sealed class World
    {
        public World()
        {
            Actors = [.. Enumerable.Range(1, 4).Select(i => Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)i, 32).ToArray()))];
            var challenger = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)9, 32).ToArray());
            Challenger = challenger.PeerId;
            var client = Actors[2];
            var validator = Actors[3];
            var signed = Enumerable.Range(0, 8).Select(i => EvidenceFactory.Request(client, (ulong)i, TokenAmount.FromTokens(10))).ToArray();
            SignedRequests = signed;
            Requests = [.. signed.Select(r => new RequestId(r.Hash))];
            _receipts = [.. signed.Select(request => Actors.Select(node => Amounts.Select(price => EvidenceFactory.Receipt(node, request, price)).ToArray()).ToArray())];
            var receipt0 = EvidenceFactory.Receipt(Actors[0], signed[1], TokenAmount.FromTokens(5));
            var receipt0b = EvidenceFactory.Receipt(Actors[0], signed[1], TokenAmount.FromTokens(5), variant: 1);
            var receipt1 = EvidenceFactory.Receipt(Actors[1], signed[2], TokenAmount.FromTokens(5));
            var receipt1b = EvidenceFactory.Receipt(Actors[1], signed[2], TokenAmount.FromTokens(5), variant: 1);
            Evidence =
            [
                EvidenceFactory.Fraud(challenger, Actors[0].PeerId, EvidenceFactory.Verdict(validator, receipt0, Actors[0].PeerId), signed[1], receipt0),
                EvidenceFactory.Fraud(challenger, Actors[1].PeerId, EvidenceFactory.Verdict(validator, receipt1, Actors[1].PeerId), signed[2], receipt1),
                EvidenceFactory.Equivocation(challenger, Actors[0].PeerId, EvidenceFactory.Record(Actors[0], signed[1], receipt0), EvidenceFactory.Record(Actors[0], signed[1], receipt0b)),
                EvidenceFactory.Equivocation(challenger, Actors[1].PeerId, EvidenceFactory.Record(Actors[1], signed[2], receipt1), EvidenceFactory.Record(Actors[1], signed[2], receipt1b)),
                EvidenceFactory.Fraud(challenger, Actors[0].PeerId, EvidenceFactory.Verdict(validator, receipt1, Actors[0].PeerId), signed[2], receipt1),
            ];
        }

        public Ed25519KeyPair[] Actors { get; }

        public PeerId Challenger { get; }

        public RequestId[] Requests { get; }

        public SignedMessage<InferenceRequest>[] SignedRequests { get; }

        public SignedMessage<Evidence>[] Evidence { get; }

        /// <summary>The receipt of <paramref name="node"/> (an actor; else actor 0) for request <paramref name="request"/> at price <c>Amounts[price]</c>.</summary>
        public SignedMessage<InferenceReceipt> Receipt(int request, PeerId node, int price) =>
            _receipts[request][Math.Max(0, Array.FindIndex(Actors, a => a.PeerId == node))][price];

        private readonly SignedMessage<InferenceReceipt>[][][] _receipts;
    }
}

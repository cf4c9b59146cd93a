using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Economics.Embedded;
using PoIP.Economics.Parameters;
using PoIP.Testing.Economics;

namespace PoIP.Economics.IntegrationTests;

/// <summary>
/// The same random operation sequences on the embedded SQLite ledger and on PoIPLedger (Anvil):
/// after every step both applied it or both refused it, and every balance, stake position and total
/// is equal. The chain returns to a snapshot taken after the prelude before each sequence
/// (<c>evm_snapshot</c> ids are single-use: a new one is taken after each revert).
/// </summary>
public sealed class DifferentialTests(AnvilChain chain) : IClassFixture<AnvilChain>
{
    private const int Kinds = 8;
    private static readonly TokenAmount[] Amounts = [TokenAmount.Zero, TokenAmount.FromTokens(1), TokenAmount.FromTokens(2), TokenAmount.FromTokens(3), TokenAmount.FromTokens(5), TokenAmount.FromTokens(150), TokenAmount.FromTokens(2_000)];
    private readonly Ed25519KeyPair[] _actors = [.. Enumerable.Range(31, 4).Select(i => Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)i, 32).ToArray()))];
    private readonly int[] _appliedByKind = new int[Kinds];

    [Fact]
    public async Task RandomSequences_SqliteAndChain_SameResultsAndBalancesAfterEveryStep()
    {
        await using var harness = await EvmHarness.StartAsync(chain);
        var parameters = EconomicParameters.Default;
        foreach (var actor in _actors)
        {
            await harness.FundAsync(actor.PeerId, TokenAmount.FromTokens(1_000));
        }

        foreach (var node in _actors.Take(2))
        {
            Assert.True((await harness.Evm.StakeAsync(OperationId.New(), node.PeerId, TokenAmount.FromTokens(200))).IsApplied);
        }

        var start = await harness.Evm.Chain.NowAsync(default);
        var requests = Enumerable.Range(0, 6).Select(r => EvidenceFactory.Request(_actors[r % 4], (ulong)r, TokenAmount.FromTokens(3))).ToArray();
        var receipts = requests.Select(q => _actors.Select(n => EvidenceFactory.Receipt(n, q, TokenAmount.FromTokens(1))).ToArray()).ToArray();
        string snapshot = await chain.SnapshotAsync();

        var kinds = Gen.Frequency((2, Gen.Constant(0)), (3, Gen.Constant(1)), (2, Gen.Constant(2)), (2, Gen.Constant(3)), (5, Gen.Constant(4)), (5, Gen.Constant(5)), (2, Gen.Constant(6)), (3, Gen.Constant(7)));
        var step = from kind in kinds
                   from a in Gen.Choose(0, 3)
                   from b in Gen.Choose(0, 3)
                   from s in Gen.Choose(0, Amounts.Length - 1)
                   from r in Gen.Choose(0, requests.Length - 1)
                   select kind + (Kinds * (a + (4 * (b + (4 * (s + (8 * r)))))));
        var property = Prop.ForAll(step.ArrayOf().ToArbitrary(), steps =>
        {
            Assert.True(chain.RevertAsync(snapshot).GetAwaiter().GetResult());
            snapshot = chain.SnapshotAsync().GetAwaiter().GetResult();
            RunAsync(harness, parameters, start, requests, receipts, steps).GetAwaiter().GetResult();
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(25).WithStartSize(20).WithEndSize(40), property);

        Assert.All(new[] { 1, 2, 4, 5 }, kind => Assert.True(_appliedByKind[kind] > 0, $"operation kind {kind} was never applied on both: {string.Join(',', _appliedByKind)}"));
        Assert.True(await chain.RevertAsync(snapshot));
    }

    private async Task RunAsync(EvmHarness harness, EconomicParameters parameters, DateTimeOffset start, SignedMessage<InferenceRequest>[] requests, SignedMessage<InferenceReceipt>[][] receipts, int[] steps)
    {
        var clock = new FakeTimeProvider(start);
        using var sqlite = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = ":memory:", TimeProvider = clock, InitialParameters = parameters });
        foreach (var actor in _actors)
        {
            Assert.True((await sqlite.DepositAsync(OperationId.New(), actor.PeerId, TokenAmount.FromTokens(1_000))).IsApplied);
        }

        foreach (var node in _actors.Take(2))
        {
            Assert.True((await sqlite.StakeAsync(OperationId.New(), node.PeerId, TokenAmount.FromTokens(200))).IsApplied);
        }

        var evm = harness.Evm;
        await AssertSameAsync(sqlite, evm, "prelude");
        TimeSpan[] jumps = [TimeSpan.FromSeconds(1), parameters.DisputeWindow, parameters.UnbondingPeriod];
        foreach (int step in steps)
        {
            int kind = step % Kinds, a = (step / Kinds) % 4, b = (step / (Kinds * 4)) % 4, s = (step / (Kinds * 16)) % 8, r = step / (Kinds * 128);
            var actor = _actors[a].PeerId;
            var other = _actors[b].PeerId;
            var amount = Amounts[Math.Min(s, Amounts.Length - 1)];
            var request = requests[r % requests.Length];
            var requestId = new RequestId(request.Hash);
            var op = OperationId.New();
            EconomicResult left, right;
            switch (kind)
            {
                case 0:
                    left = await sqlite.DepositAsync(op, actor, amount);
                    if (!amount.IsZero)
                    {
                        await chain.AddNativeAsync(harness.Accounts.AddressOf(actor)!, (System.Numerics.BigInteger)amount.BaseUnits);
                    }

                    right = await evm.DepositAsync(op, actor, amount);
                    break;
                case 1:
                    (left, right) = (await sqlite.StakeAsync(op, actor, amount), await evm.StakeAsync(op, actor, amount));
                    break;
                case 2:
                    (left, right) = (await sqlite.RequestUnbondAsync(op, actor, amount), await evm.RequestUnbondAsync(op, actor, amount));
                    break;
                case 3:
                    (left, right) = (await sqlite.WithdrawUnbondedAsync(op, actor), await evm.WithdrawUnbondedAsync(op, actor));
                    break;
                case 4:
                    var client = _actors[r % 4].PeerId;
                    var server = _actors[b % 2].PeerId; // the staked ones, mostly
                    (left, right) = (await sqlite.OpenEscrowAsync(op, requestId, client, server, amount), await evm.OpenEscrowAsync(op, requestId, client, server, amount));
                    break;
                case 5:
                    // Mostly a request with an open escrow and the escrowed node's receipt, sometimes any
                    // request and another node's (without this bias a run of 10 sequences settled nothing
                    // about one time in two, and the coverage check below failed).
                    if (a != 0 && await OpenEscrowAsync(sqlite, requests, r) is { } open)
                    {
                        (request, requestId) = (requests[open], new RequestId(requests[open].Hash));
                        r = open;
                    }

                    var escrowed = (await sqlite.GetEscrowAsync(requestId))?.Node;
                    int signer = escrowed is { } n && a != 0 ? Array.FindIndex(_actors, k => k.PeerId == n) : b;
                    var receipt = receipts[r % requests.Length][signer];
                    (left, right) = (await sqlite.SettleEscrowAsync(op, request, receipt), await evm.SettleEscrowAsync(op, request, receipt));
                    break;
                case 6:
                    (left, right) = (await sqlite.RefundEscrowAsync(op, requestId), await evm.RefundEscrowAsync(op, requestId));
                    break;
                default:
                    var jump = jumps[b % jumps.Length];
                    clock.Advance(jump);
                    await chain.AdvanceTimeAsync(jump);
                    (left, right) = (EconomicResult.Applied, EconomicResult.Applied);
                    break;
            }

            string what = $"step kind {kind} (a={a}, b={b}, amount={amount}, request={r % requests.Length}): sqlite {left.Status} {left.Detail} / chain {right.Status} {right.Detail}";
            Assert.True(left.IsApplied == right.IsApplied, what);
            if (left.IsApplied)
            {
                _appliedByKind[kind]++;
            }

            await AssertSameAsync(sqlite, evm, what);
        }
    }

    /// <summary>The index of an open escrow's request (the <paramref name="r"/>-th among them, cyclically), or null.</summary>
    private static async Task<int?> OpenEscrowAsync(EmbeddedStakeManager sqlite, SignedMessage<InferenceRequest>[] requests, int r)
    {
        var open = new List<int>();
        for (int i = 0; i < requests.Length; i++)
        {
            if ((await sqlite.GetEscrowAsync(new RequestId(requests[i].Hash)))?.State == EscrowState.Open)
            {
                open.Add(i);
            }
        }

        return open.Count == 0 ? null : open[r % open.Count];
    }

    private async Task AssertSameAsync(EmbeddedStakeManager sqlite, IStakeManager evm, string after)
    {
        foreach (var actor in _actors)
        {
            Assert.True(await sqlite.GetBalanceAsync(actor.PeerId) == await evm.GetBalanceAsync(actor.PeerId), "balance differs after " + after);
            var (x, y) = (await sqlite.GetStakeAsync(actor.PeerId), await evm.GetStakeAsync(actor.PeerId));
            Assert.True((x.Bonded, x.Unbonding, x.Withdrawable) == (y.Bonded, y.Unbonding, y.Withdrawable), $"stake differs after {after}: {x} / {y}");
        }

        var (l, c) = (await sqlite.GetTotalsAsync(), await evm.GetTotalsAsync());
        Assert.True(l.Balances == c.Balances && l.Bonded == c.Bonded && l.Unbonding == c.Unbonding && l.Escrowed == c.Escrowed && l.PublicFund == c.PublicFund && l.Burned == c.Burned, $"totals differ after {after}: {l} / {c}");
        Assert.True(c.IsConserved, "chain not conserved after " + after);
    }
}

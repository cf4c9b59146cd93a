using FsCheck;
using FsCheck.Fluent;
using PoIP.Core.Economics;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Economics.Slashing;

namespace PoIP.Economics.Tests.Accountability;

/// <summary>Rule 6: the slashing arithmetic never creates or loses money, alone and across random cases on a real ledger.</summary>
public sealed class AccountabilityPropertyTests
{
    [Fact]
    public void PenaltyPlan_AnyStakeAndFractions_TakesExactlyWhatItSplits()
    {
        var input = from bonded in Gen.Choose(0, int.MaxValue)
                    from tranches in Gen.Choose(0, int.MaxValue).ArrayOf()
                    from fraction in Gen.Choose(100, 10_000)
                    from challenger in Gen.Choose(0, 5_000)
                    from fund in Gen.Choose(0, 10_000 - challenger)
                    from scale in Gen.Elements(1UL, 1_000_000_007UL, 1_000_000_000_000_000_000UL)
                    select (bonded, tranches, fraction, challenger, fund, scale);
        var property = Prop.ForAll(input.ToArbitrary(), x =>
        {
            var bonded = new TokenAmount((UInt128)(ulong)x.bonded * x.scale);
            var tranches = x.tranches.Select(t => new TokenAmount((UInt128)(ulong)t * x.scale)).ToArray();
            var plan = PenaltyPlan.Compute(bonded, tranches, (ulong)x.fraction, (ulong)x.challenger, (ulong)x.fund);
            var slashable = tranches.Aggregate(bonded, (a, b) => a + b);
            var taken = plan.FromTranches.Aggregate(plan.FromBonded, (a, b) => a + b);
            var split = plan.Split;
            return plan.FromBonded <= bonded
                && plan.FromTranches.Zip(tranches).All(p => p.First <= p.Second)
                && taken == split.Total
                && split.Challenger + split.PublicFund + split.Burned == split.Total
                && split.Total <= slashable
                && (slashable.IsZero || !split.Total.IsZero)
                && (split.Total < bonded || plan.FromBonded == bonded);
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), property);
    }

    [Fact]
    public void RandomCases_AnyVerdictsAppealsAndTime_MoneyConservedAndJournalRebuilds()
    {
        var rules = from quorum in Gen.Choose(1, 3)
                    from window in Gen.Elements(0, 1, 1)
                    from panel in Gen.Choose(1, 3)
                    from fraudPercent in Gen.Elements(20, 50, 80)
                    select (Rules: new AccountabilityRules(quorum, TimeSpan.FromHours(window), panel), FraudPercent: fraudPercent);

        // A step: 0-5 a validator's verdict (outcome from the high bits), 6 the node appeals, 7 a validator appeals, 8 time passes, 9 finalize.
        var kinds = Gen.Frequency((6, Gen.Choose(0, 5)), (3, Gen.Constant(6)), (1, Gen.Constant(7)), (1, Gen.Constant(8)), (1, Gen.Constant(9)));
        var step = from kind in kinds
                   from who in Gen.Choose(0, 5)
                   from roll in Gen.Choose(0, 99)
                   select (kind, who, roll);
        var property = Prop.ForAll(rules.ToArbitrary(), step.ArrayOf().ToArbitrary(), (r, steps) => RunAsync(r.Rules, r.FraudPercent, steps).GetAwaiter().GetResult());
        Array.Clear(FinalStates);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(80).WithEndSize(24), property);

        // The generator must reach both outcomes and appeals, or the invariant proves little.
        Assert.All(new[] { DisputeState.Executed, DisputeState.Cancelled, DisputeState.Appealed }, s => Assert.True(FinalStates[(int)s] > 0, $"{s} never reached: {string.Join(',', FinalStates)}"));
    }

    private static readonly int[] FinalStates = new int[6];

    private static async Task<bool> RunAsync(AccountabilityRules rules, int fraudPercent, (int Kind, int Who, int Roll)[] steps)
    {
        await using var court = await Court.OpenAsync(rules, 6);
        var start = await court.Harness.Embedded.GetTotalsAsync();
        int second = 0;
        foreach (var (kind, who, roll) in steps)
        {
            switch (kind)
            {
                case <= 5:
                    await court.VoteAsync(kind, roll < fraudPercent ? VerdictOutcome.Fraud : VerdictOutcome.Valid, Testing.Economics.EvidenceFactory.Stamp.AddSeconds(second++));
                    break;
                case 6:
                    await court.AppealAsync(court.Node);
                    break;
                case 7:
                    await court.AppealAsync(court.Validators[who]);
                    break;
                case 8:
                    await court.Harness.AdvanceTimeAsync(TimeSpan.FromMinutes(40));
                    break;
                default:
                    await court.Ledger.FinalizeCaseAsync(OperationId.New(), court.ReceiptId);
                    break;
            }

            if (await court.Ledger.GetCaseAsync(court.ReceiptId) is { State: DisputeState.Appealed })
            {
                FinalStates[(int)DisputeState.Appealed]++;
            }

            var totals = await court.Harness.Embedded.GetTotalsAsync();
            if (!totals.IsConserved || totals.Supply != start.Supply)
            {
                return false;
            }
        }

        // The node is slashed at most once, and only in an executed case.
        var state = (await court.Ledger.GetCaseAsync(court.ReceiptId))?.State;
        if (state is { } reached)
        {
            FinalStates[(int)reached]++;
        }

        var bonded = await court.BondedAsync(court.Node.PeerId);
        return state == DisputeState.Executed ? bonded == TokenAmount.ParseTokens("500") : bonded == Court.NodeStake;
    }
}

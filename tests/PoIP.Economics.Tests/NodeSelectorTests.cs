using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Selection;

namespace PoIP.Economics.Tests;

public sealed class NodeSelectorTests
{
    private static readonly PeerId[] Peers = [.. Enumerable.Range(1, 6).Select(i => Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)i, 32).ToArray()).PeerId)];

    private static NodeCandidate Candidate(int i, ulong price, int latencyMs, ulong stake, double reputation) =>
        new(Peers[i], TokenAmount.FromTokens(price), TimeSpan.FromMilliseconds(latencyMs), TokenAmount.FromTokens(stake), reputation);

    private static readonly NodeCandidate[] Market =
    [
        Candidate(0, 1, 50, 1_000, 0.95), // best in every dimension
        Candidate(1, 2, 80, 500, 0.8),
        Candidate(2, 3, 120, 300, 0.7),
        Candidate(3, 4, 200, 200, 0.6),
        Candidate(4, 5, 400, 150, 0.3), // worst in every dimension
    ];

    [Fact]
    public void Select_SameSeed_SameChoices()
    {
        var a = new NodeSelector(7);
        var b = new NodeSelector(7);
        var first = Enumerable.Range(0, 200).Select(_ => a.Select(Market, TokenAmount.FromTokens(10))!.Node).ToList();
        var second = Enumerable.Range(0, 200).Select(_ => b.Select(Market, TokenAmount.FromTokens(10))!.Node).ToList();
        Assert.Equal(first, second);
    }

    [Fact]
    public void Select_ManyRequests_BestWinsMostWorstNever()
    {
        var selector = new NodeSelector(1);
        var counts = Peers.ToDictionary(p => p, _ => 0);
        for (int i = 0; i < 5_000; i++)
        {
            counts[selector.Select(Market, TokenAmount.FromTokens(10))!.Node]++;
        }

        // Power of two choices over 5: the best is in the sampled pair 2/5 of the time and always wins it.
        Assert.InRange(counts[Peers[0]], 1_800, 2_200);
        Assert.Equal(0, counts[Peers[4]]);
        Assert.True(counts[Peers[0]] > counts[Peers[1]] && counts[Peers[1]] > counts[Peers[2]] && counts[Peers[2]] > counts[Peers[3]]);
    }

    [Fact]
    public void Select_PriceAboveCapOrStakeBelowMinimum_NeverChosen()
    {
        var selector = new NodeSelector(3, new NodeSelectionOptions { MinimumStake = TokenAmount.FromTokens(250) });
        for (int i = 0; i < 1_000; i++)
        {
            var chosen = selector.Select(Market, TokenAmount.FromTokens(2))!;
            Assert.Contains(chosen.Node, new[] { Peers[0], Peers[1] });
        }

        Assert.Null(selector.Select(Market, TokenAmount.FromBaseUnits(1)));
        Assert.Null(selector.Select([], TokenAmount.FromTokens(10)));
    }

    [Fact]
    public void Score_LowerReputationSameOtherwise_Lower()
    {
        var selector = new NodeSelector(0);
        NodeCandidate[] pair = [Candidate(0, 1, 50, 100, 0.9), Candidate(1, 1, 50, 100, 0.4)];
        Assert.True(selector.Score(pair[0], pair) > selector.Score(pair[1], pair));
    }

    [Fact]
    public void Select_CaughtCheaterStillStakedAgainstSlowHonestNode_HonestNodeAlwaysChosen()
    {
        // The cheater is fast (5 ms) and was caught once (one proven fraud among many completed requests); the honest
        // node is 200 ms slower. By score alone they are alike (or the cheater wins): the offence must decide.
        var book = new Reputation.ReputationBook();
        for (int i = 0; i < 20; i++)
        {
            book.Record(Peers[0], Reputation.ReputationEvent.RequestCompleted);
            book.Record(Peers[1], Reputation.ReputationEvent.RequestCompleted);
        }

        book.Record(Peers[0], Reputation.ReputationEvent.FraudProven);
        var cheaterScore = book.Get(Peers[0]);
        var cheater = new NodeCandidate(Peers[0], TokenAmount.FromTokens(1), TimeSpan.FromMilliseconds(5), TokenAmount.FromTokens(200), cheaterScore.Score) { Offences = cheaterScore.Offences };
        var honest = new NodeCandidate(Peers[1], TokenAmount.FromTokens(1), TimeSpan.FromMilliseconds(205), TokenAmount.FromTokens(200), book.GetScore(Peers[1]));
        var selector = new NodeSelector(3, new NodeSelectionOptions { MinimumStake = TokenAmount.FromTokens(100) });
        Assert.Equal(1, cheater.Offences);
        Assert.True(selector.Score(cheater, [cheater, honest]) >= selector.Score(honest, [cheater, honest]) / 2); // the scores alone do not route it around

        var chosen = Enumerable.Range(0, 500).Select(_ => selector.Select([cheater, honest], TokenAmount.FromTokens(10))!.Node).ToList();

        Assert.All(chosen, node => Assert.Equal(Peers[1], node));
    }

    [Fact]
    public void Select_OnlyOffendersEligible_OneIsStillChosen()
    {
        var selector = new NodeSelector(5);
        var a = Candidate(0, 1, 50, 1_000, 0.2) with { Offences = 1 };
        var b = Candidate(1, 1, 50, 1_000, 0.2) with { Offences = 2 };
        var slashed = Candidate(2, 1, 50, 10, 0.9); // offence-free but below the minimum stake: not eligible, so it does not exclude the others
        var picky = new NodeSelector(5, new NodeSelectionOptions { MinimumStake = TokenAmount.FromTokens(100) });

        Assert.NotNull(selector.Select([a, b], TokenAmount.FromTokens(10)));
        Assert.Contains(picky.Select([a, b, slashed], TokenAmount.FromTokens(10))!.Node, new[] { Peers[0], Peers[1] });
    }
}

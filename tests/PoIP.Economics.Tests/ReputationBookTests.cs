using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Identity;
using PoIP.Economics.Reputation;

namespace PoIP.Economics.Tests;

public sealed class ReputationBookTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Get_UnknownNode_PriorMean()
    {
        var book = new ReputationBook(timeProvider: _clock);
        using var node = Ed25519KeyPair.Generate();
        Assert.Equal(0.5, book.GetScore(node.PeerId));
        Assert.Equal(0, book.Count);
    }

    [Fact]
    public void Record_SuccessesThenFraud_ScoreRisesThenCollapses()
    {
        var book = new ReputationBook(timeProvider: _clock);
        using var node = Ed25519KeyPair.Generate();
        for (int i = 0; i < 20; i++)
        {
            book.Record(node.PeerId, ReputationEvent.RequestCompleted);
        }

        book.Record(node.PeerId, ReputationEvent.AuditPassed);
        Assert.Equal((1 + 23.0) / (2 + 23.0), book.GetScore(node.PeerId), 12);

        book.Record(node.PeerId, ReputationEvent.FraudProven);
        Assert.True(book.GetScore(node.PeerId) < 0.35, book.Get(node.PeerId).ToString());
    }

    [Fact]
    public void Record_TimeoutsVersusCompletions_TimeoutsRankLower()
    {
        var book = new ReputationBook(timeProvider: _clock);
        using var good = Ed25519KeyPair.Generate();
        using var flaky = Ed25519KeyPair.Generate();
        for (int i = 0; i < 5; i++)
        {
            book.Record(good.PeerId, ReputationEvent.RequestCompleted);
            book.Record(flaky.PeerId, i % 2 == 0 ? ReputationEvent.Timeout : ReputationEvent.RequestCompleted);
        }

        Assert.True(book.GetScore(good.PeerId) > book.GetScore(flaky.PeerId));
        Assert.True(book.GetScore(flaky.PeerId) < 0.5);
    }

    [Fact]
    public void Get_AfterOneHalfLife_EvidenceHalved()
    {
        var book = new ReputationBook(new ReputationOptions { HalfLife = TimeSpan.FromDays(1) }, _clock);
        using var node = Ed25519KeyPair.Generate();
        book.Record(node.PeerId, ReputationEvent.FraudProven);

        _clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(25, book.Get(node.PeerId).Failures, 9);
        _clock.Advance(TimeSpan.FromDays(30));
        Assert.Equal(0.5, book.GetScore(node.PeerId), 3);
    }

    [Fact]
    public void Record_BeyondMaxNodes_OldestDropped()
    {
        var book = new ReputationBook(new ReputationOptions { MaxNodes = 2 }, _clock);
        using var a = Ed25519KeyPair.Generate();
        using var b = Ed25519KeyPair.Generate();
        using var c = Ed25519KeyPair.Generate();
        book.Record(a.PeerId, ReputationEvent.RequestCompleted);
        _clock.Advance(TimeSpan.FromSeconds(1));
        book.Record(b.PeerId, ReputationEvent.RequestCompleted);
        _clock.Advance(TimeSpan.FromSeconds(1));
        book.Record(c.PeerId, ReputationEvent.RequestCompleted);

        Assert.Equal(2, book.Count);
        Assert.Equal(0.5, book.GetScore(a.PeerId));
        Assert.True(book.GetScore(c.PeerId) > 0.5);
    }

    [Fact]
    public void Constructor_InvalidOptions_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReputationBook(new ReputationOptions { HalfLife = TimeSpan.Zero }));

    [Fact]
    public void Get_FraudAndFailedChallenge_CountedAsOffencesThatDoNotDecay()
    {
        var book = new ReputationBook(timeProvider: _clock);
        var node = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)77, 32).ToArray()).PeerId;
        book.Record(node, ReputationEvent.Timeout);
        book.Record(node, ReputationEvent.RequestCompleted);
        Assert.Equal(0, book.Get(node).Offences);

        book.Record(node, ReputationEvent.FraudProven);
        book.Record(node, ReputationEvent.ChallengeFailed);
        var caught = book.Get(node);
        _clock.Advance(TimeSpan.FromDays(70)); // ten half-lives: the weighted evidence fades, the offences stay

        Assert.Equal(2, caught.Offences);
        Assert.Equal(102, caught.Failures, 6); // a failed challenge weighs as much as a proven fraud: 50 + 50, and the timeout 2
        Assert.Equal(2, book.Get(node).Offences);
        Assert.True(book.Get(node).Failures < 1);
    }
}

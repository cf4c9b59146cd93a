using PoIP.Node.Commands.Soak;

namespace PoIP.Node.Tests;

/// <summary>The soak's payment counts, per escrow group (the attempts of one request share a group, paid once).</summary>
public sealed class SoakPaymentsTests
{
    [Fact]
    public void Count_EachAnswerPaidThroughItsOwnEscrow_NothingAmiss()
    {
        var counts = SoakPayments.Count([new("a", "a", true), new("b", "b", true), new("c", "b", false)], Answered("a", "b"));

        Assert.Equal(new SoakPaymentCounts(0, 0, 0, 0), counts);
    }

    [Fact]
    public void Count_AnswerPaidThroughTheDiscardedHedge_CountedApartNotAsAFault()
    {
        var escrows = new List<SoakEscrow> { new("first", "first", false), new("hedge", "first", true) };

        var counts = SoakPayments.Count(escrows, Answered("first"));

        Assert.Equal(new SoakPaymentCounts(AnsweredNotPaid: 0, PaidNotAnswered: 0, GroupsPaidTwice: 0, PaidThroughOtherAttempt: 1), counts);
        Assert.Equal("hedge", SoakPayments.PaidInstead("first", escrows));
        Assert.Null(SoakPayments.PaidInstead("hedge", escrows));
    }

    [Fact]
    public void Count_GroupPaidTwiceUnansweredPaidAndAnswerUnpaid_EachCounted()
    {
        var escrows = new List<SoakEscrow>
        {
            new("x", "x", true), new("x2", "x", true), // one request paid twice
            new("y", "y", true),                       // paid, never answered
            new("z", "z", false),                      // answered, never paid
        };

        var counts = SoakPayments.Count(escrows, Answered("x", "z"));

        Assert.Equal(new SoakPaymentCounts(AnsweredNotPaid: 1, PaidNotAnswered: 1, GroupsPaidTwice: 1, PaidThroughOtherAttempt: 0), counts);
    }

    private static HashSet<string> Answered(params string[] ids) => new(ids, StringComparer.Ordinal);
}

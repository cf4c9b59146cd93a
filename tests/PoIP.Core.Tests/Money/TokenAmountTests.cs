using FsCheck.Xunit;
using PoIP.Core.Money;

namespace PoIP.Core.Tests.Money;

public sealed class TokenAmountTests
{
    [Property(MaxTest = 2000)]
    public bool MultiplyFraction_TwoComplementaryShares_NeverExceedWhole(ulong high, ulong low, ulong numerator, ulong denominator)
    {
        var amount = new TokenAmount(new UInt128(high, low));
        ulong d = Math.Max(1, denominator);
        ulong n = numerator % (d + 1);
        var a = amount.MultiplyFraction(n, d);
        var b = amount.MultiplyFraction(d - n, d);
        return TokenAmount.TryAdd(a, b, out var sum) && sum <= amount && (amount - sum).BaseUnits <= 1;
    }

    [Property(MaxTest = 1000)]
    public bool MultiplyFraction_MatchesBigIntegerFloor(ulong high, ulong low, ushort basisPoints)
    {
        var amount = new TokenAmount(new UInt128(high, low));
        ulong bps = basisPoints % 10_001UL;
        var expected = (System.Numerics.BigInteger)amount.BaseUnits * bps / 10_000;
        return (System.Numerics.BigInteger)amount.MultiplyFraction(bps, 10_000).BaseUnits == expected;
    }

    [Property(MaxTest = 1000)]
    public bool ToStringThenParse_RoundTrips(ulong high, ulong low)
    {
        var amount = new TokenAmount(new UInt128(high >> 8, low));
        return TokenAmount.ParseTokens(amount.ToString()) == amount;
    }

    [Fact]
    public void Subtract_BelowZero_Throws() => Assert.Throws<OverflowException>(() => TokenAmount.FromBaseUnits(1) - TokenAmount.FromBaseUnits(2));

    [Fact]
    public void Add_Overflow_Throws() => Assert.Throws<OverflowException>(() => new TokenAmount(UInt128.MaxValue) + TokenAmount.FromBaseUnits(1));

    [Fact]
    public void TrySubtract_BelowZero_False() => Assert.False(TokenAmount.TrySubtract(TokenAmount.Zero, TokenAmount.FromBaseUnits(1), out _));

    [Theory]
    [InlineData("1.5", "1500000000000000000")]
    [InlineData("0.000000000000000001", "1")]
    [InlineData("42", "42000000000000000000")]
    public void ParseTokens_Decimal_ExactBaseUnits(string text, string baseUnits) =>
        Assert.Equal(UInt128.Parse(baseUnits, System.Globalization.CultureInfo.InvariantCulture), TokenAmount.ParseTokens(text).BaseUnits);

    [Theory]
    [InlineData("-1")]
    [InlineData("1.")]
    [InlineData("1.0000000000000000001")]
    [InlineData("1e5")]
    [InlineData("")]
    public void ParseTokens_Invalid_Throws(string text) => Assert.Throws<FormatException>(() => TokenAmount.ParseTokens(text));
}

using System.Globalization;

namespace PoIP.Core.Money;

/// <summary>
/// An amount of PoIP tokens in integer base units (10^-18 of a token, like wei). No floating
/// point anywhere: arithmetic is checked and throws <see cref="OverflowException"/> rather than
/// wrapping; fractions round down so that a split never creates money.
/// </summary>
public readonly record struct TokenAmount : IComparable<TokenAmount>
{
    /// <summary>Decimal places between a token and a base unit.</summary>
    public const int Decimals = 18;

    private static readonly UInt128 UnitsPerToken = UInt128.Parse("1000000000000000000", CultureInfo.InvariantCulture);

    /// <summary>Creates an amount from base units.</summary>
    public TokenAmount(UInt128 baseUnits) => BaseUnits = baseUnits;

    /// <summary>The amount in base units.</summary>
    public UInt128 BaseUnits { get; }

    /// <summary>Zero.</summary>
    public static TokenAmount Zero => default;

    /// <summary>True when the amount is zero.</summary>
    public bool IsZero => BaseUnits == UInt128.Zero;

    /// <summary>An amount of whole tokens.</summary>
    /// <exception cref="OverflowException">The result does not fit in 128 bits.</exception>
    public static TokenAmount FromTokens(ulong tokens) => new(checked((UInt128)tokens * UnitsPerToken));

    /// <summary>An amount of base units.</summary>
    public static TokenAmount FromBaseUnits(ulong baseUnits) => new(baseUnits);

    /// <summary>Checked addition.</summary>
    /// <exception cref="OverflowException">The sum does not fit in 128 bits.</exception>
    public static TokenAmount operator +(TokenAmount left, TokenAmount right) => new(checked(left.BaseUnits + right.BaseUnits));

    /// <summary>Checked subtraction.</summary>
    /// <exception cref="OverflowException">The result would be negative.</exception>
    public static TokenAmount operator -(TokenAmount left, TokenAmount right) => new(checked(left.BaseUnits - right.BaseUnits));

    /// <summary>Compares amounts.</summary>
    public static bool operator <(TokenAmount left, TokenAmount right) => left.BaseUnits < right.BaseUnits;

    /// <summary>Compares amounts.</summary>
    public static bool operator >(TokenAmount left, TokenAmount right) => left.BaseUnits > right.BaseUnits;

    /// <summary>Compares amounts.</summary>
    public static bool operator <=(TokenAmount left, TokenAmount right) => left.BaseUnits <= right.BaseUnits;

    /// <summary>Compares amounts.</summary>
    public static bool operator >=(TokenAmount left, TokenAmount right) => left.BaseUnits >= right.BaseUnits;

    /// <summary>Addition that reports overflow instead of throwing.</summary>
    public static bool TryAdd(TokenAmount left, TokenAmount right, out TokenAmount sum)
    {
        UInt128 result = left.BaseUnits + right.BaseUnits;
        bool ok = result >= left.BaseUnits;
        sum = ok ? new TokenAmount(result) : default;
        return ok;
    }

    /// <summary>Subtraction that reports a negative result instead of throwing.</summary>
    public static bool TrySubtract(TokenAmount left, TokenAmount right, out TokenAmount difference)
    {
        bool ok = left.BaseUnits >= right.BaseUnits;
        difference = ok ? new TokenAmount(left.BaseUnits - right.BaseUnits) : default;
        return ok;
    }

    /// <summary>Checked multiplication by a count (e.g. a per-token price × tokens).</summary>
    /// <exception cref="OverflowException">The product does not fit in 128 bits.</exception>
    public TokenAmount Multiply(ulong factor) => new(checked(BaseUnits * factor));

    /// <summary>
    /// <c>floor(this × numerator / denominator)</c> without intermediate overflow, for fee and
    /// slash fractions (e.g. basis points: numerator ≤ denominator = 10,000).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The denominator is zero or the numerator exceeds it.</exception>
    public TokenAmount MultiplyFraction(ulong numerator, ulong denominator)
    {
        ArgumentOutOfRangeException.ThrowIfZero(denominator);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(numerator, denominator);
        UInt128 quotient = BaseUnits / denominator;
        UInt128 remainder = BaseUnits % denominator;
        // quotient × numerator ≤ BaseUnits (numerator ≤ denominator); remainder × numerator < 2^128 since both < 2^64.
        return new TokenAmount((quotient * numerator) + (remainder * numerator / denominator));
    }

    /// <summary>Parses a decimal token amount such as <c>12.5</c> (at most 18 decimals).</summary>
    /// <exception cref="FormatException">The text is not a non-negative decimal with at most 18 fractional digits.</exception>
    /// <exception cref="OverflowException">The amount does not fit.</exception>
    public static TokenAmount ParseTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Trim().Split('.');
        if (parts.Length > 2 || parts[0].Length == 0 || !parts.All(p => p.All(char.IsAsciiDigit)) || (parts.Length == 2 && (parts[1].Length is 0 or > Decimals)))
        {
            throw new FormatException($"'{text}' is not a token amount (digits, optional '.', at most {Decimals} decimals).");
        }

        UInt128 whole = UInt128.Parse(parts[0], CultureInfo.InvariantCulture);
        UInt128 fraction = parts.Length == 2 ? UInt128.Parse(parts[1].PadRight(Decimals, '0'), CultureInfo.InvariantCulture) : UInt128.Zero;
        return new TokenAmount(checked((whole * UnitsPerToken) + fraction));
    }

    /// <inheritdoc />
    public int CompareTo(TokenAmount other) => BaseUnits.CompareTo(other.BaseUnits);

    /// <summary>Decimal token form, e.g. <c>12.5</c>.</summary>
    public override string ToString()
    {
        UInt128 whole = BaseUnits / UnitsPerToken;
        UInt128 fraction = BaseUnits % UnitsPerToken;
        if (fraction == UInt128.Zero)
        {
            return whole.ToString(CultureInfo.InvariantCulture);
        }

        string digits = fraction.ToString(CultureInfo.InvariantCulture).PadLeft(Decimals, '0').TrimEnd('0');
        return whole.ToString(CultureInfo.InvariantCulture) + "." + digits;
    }
}

using System.Collections.Frozen;
using PoIP.Core.Money;

namespace PoIP.Economics.Parameters;

/// <summary>The validated range of every parameter and the rules that tie parameters together.</summary>
public static class ParameterRules
{
    private const ulong Day = 86_400;

    private static readonly FrozenDictionary<EconomicParameter, ParameterRange> RangeTable = new Dictionary<EconomicParameter, ParameterRange>
    {
        [EconomicParameter.AuditProbabilityBps] = new(1, 10_000),
        [EconomicParameter.SlashFractionBps] = new(100, 10_000),
        [EconomicParameter.ChallengerShareBps] = new(0, 5_000),
        [EconomicParameter.PublicFundShareBps] = new(0, 10_000),
        [EconomicParameter.ProtocolFeeBps] = new(0, 2_000),
        [EconomicParameter.DisputeWindowSeconds] = new(60, 7 * Day),
        [EconomicParameter.UnbondingPeriodSeconds] = new(3_600, 60 * Day),
        [EconomicParameter.MinimumStake] = new(1, TokenAmount.FromTokens(1_000_000_000).BaseUnits),
        [EconomicParameter.VotingPeriodSeconds] = new(60, 30 * Day),
        [EconomicParameter.QuorumBps] = new(100, 10_000),
        [EconomicParameter.ApprovalThresholdBps] = new(5_000, 10_000),
        [EconomicParameter.TimelockSeconds] = new(0, 30 * Day),
    }.ToFrozenDictionary();

    /// <summary>Every parameter's range.</summary>
    public static IReadOnlyDictionary<EconomicParameter, ParameterRange> Ranges => RangeTable;

    /// <summary>The range of one parameter.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a known parameter.</exception>
    public static ParameterRange RangeOf(EconomicParameter parameter) =>
        RangeTable.TryGetValue(parameter, out var range) ? range : throw new ArgumentOutOfRangeException(nameof(parameter), parameter, "Unknown parameter.");

    /// <summary>
    /// Checks a whole parameter set: each value in its range, and the slash split adds up to at most
    /// the whole slash (challenger share + public fund share ≤ 10,000 bps). Returns null when valid,
    /// else why not.
    /// </summary>
    public static string? Check(IReadOnlyDictionary<EconomicParameter, UInt128> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        foreach (var (parameter, range) in RangeTable)
        {
            if (!values.TryGetValue(parameter, out var value))
            {
                return $"{parameter} is missing.";
            }

            if (!range.Contains(value))
            {
                return $"{parameter} = {value} is outside [{range.Minimum}, {range.Maximum}].";
            }
        }

        if (values.Count != RangeTable.Count)
        {
            return "unknown parameter in the set.";
        }

        return values[EconomicParameter.ChallengerShareBps] + values[EconomicParameter.PublicFundShareBps] > 10_000
            ? "ChallengerShareBps + PublicFundShareBps exceeds 10,000."
            : null;
    }
}

using PoIP.Core.Money;

namespace PoIP.Economics.Parameters;

/// <summary>
/// The economic parameters in force. Defaults are documented in docs/economics.md; ranges are in
/// <see cref="ParameterRules"/>; governance changes them one at a time.
/// </summary>
public sealed record EconomicParameters
{
    /// <summary>Audit probability, bps (default 500 = 5%).</summary>
    public uint AuditProbabilityBps { get; init; } = 500;

    /// <summary>Slash fraction, bps (default 5,000 = half the slashable stake).</summary>
    public uint SlashFractionBps { get; init; } = 5_000;

    /// <summary>Challenger's share of a slash, bps (default 2,000).</summary>
    public uint ChallengerShareBps { get; init; } = 2_000;

    /// <summary>Public fund's share of a slash, bps (default 3,000; the remaining 5,000 are burned).</summary>
    public uint PublicFundShareBps { get; init; } = 3_000;

    /// <summary>Protocol fee on settled prices, bps (default 100 = 1%).</summary>
    public uint ProtocolFeeBps { get; init; } = 100;

    /// <summary>Dispute window (default 1 hour).</summary>
    public TimeSpan DisputeWindow { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Unbonding period (default 7 days).</summary>
    public TimeSpan UnbondingPeriod { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Minimum bonded stake to serve (default 100 tokens).</summary>
    public TokenAmount MinimumStake { get; init; } = TokenAmount.FromTokens(100);

    /// <summary>Voting period (default 3 days).</summary>
    public TimeSpan VotingPeriod { get; init; } = TimeSpan.FromDays(3);

    /// <summary>Quorum, bps of total bonded stake (default 2,000).</summary>
    public uint QuorumBps { get; init; } = 2_000;

    /// <summary>Approval threshold, bps of votes cast (default 5,001: strict majority).</summary>
    public uint ApprovalThresholdBps { get; init; } = 5_001;

    /// <summary>Timelock after voting (default 1 day).</summary>
    public TimeSpan Timelock { get; init; } = TimeSpan.FromDays(1);

    /// <summary>The defaults.</summary>
    public static EconomicParameters Default { get; } = new();

    /// <summary>The values as raw integers, keyed by parameter.</summary>
    public IReadOnlyDictionary<EconomicParameter, UInt128> ToValues() => new Dictionary<EconomicParameter, UInt128>
    {
        [EconomicParameter.AuditProbabilityBps] = AuditProbabilityBps,
        [EconomicParameter.SlashFractionBps] = SlashFractionBps,
        [EconomicParameter.ChallengerShareBps] = ChallengerShareBps,
        [EconomicParameter.PublicFundShareBps] = PublicFundShareBps,
        [EconomicParameter.ProtocolFeeBps] = ProtocolFeeBps,
        [EconomicParameter.DisputeWindowSeconds] = Seconds(DisputeWindow),
        [EconomicParameter.UnbondingPeriodSeconds] = Seconds(UnbondingPeriod),
        [EconomicParameter.MinimumStake] = MinimumStake.BaseUnits,
        [EconomicParameter.VotingPeriodSeconds] = Seconds(VotingPeriod),
        [EconomicParameter.QuorumBps] = QuorumBps,
        [EconomicParameter.ApprovalThresholdBps] = ApprovalThresholdBps,
        [EconomicParameter.TimelockSeconds] = Seconds(Timelock),
    };

    /// <summary>Builds parameters from raw values (which must pass <see cref="ParameterRules.Check"/>).</summary>
    /// <exception cref="ArgumentException">The values are invalid.</exception>
    public static EconomicParameters FromValues(IReadOnlyDictionary<EconomicParameter, UInt128> values)
    {
        string? problem = ParameterRules.Check(values);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(values));
        }

        return new EconomicParameters
        {
            AuditProbabilityBps = (uint)values[EconomicParameter.AuditProbabilityBps],
            SlashFractionBps = (uint)values[EconomicParameter.SlashFractionBps],
            ChallengerShareBps = (uint)values[EconomicParameter.ChallengerShareBps],
            PublicFundShareBps = (uint)values[EconomicParameter.PublicFundShareBps],
            ProtocolFeeBps = (uint)values[EconomicParameter.ProtocolFeeBps],
            DisputeWindow = TimeSpan.FromSeconds((ulong)values[EconomicParameter.DisputeWindowSeconds]),
            UnbondingPeriod = TimeSpan.FromSeconds((ulong)values[EconomicParameter.UnbondingPeriodSeconds]),
            MinimumStake = new TokenAmount(values[EconomicParameter.MinimumStake]),
            VotingPeriod = TimeSpan.FromSeconds((ulong)values[EconomicParameter.VotingPeriodSeconds]),
            QuorumBps = (uint)values[EconomicParameter.QuorumBps],
            ApprovalThresholdBps = (uint)values[EconomicParameter.ApprovalThresholdBps],
            Timelock = TimeSpan.FromSeconds((ulong)values[EconomicParameter.TimelockSeconds]),
        };
    }

    /// <summary>Null when every value is in range and the slash split is consistent, else why not.</summary>
    public string? Validate() => ParameterRules.Check(ToValues());

    private static UInt128 Seconds(TimeSpan span) => span < TimeSpan.Zero ? UInt128.MaxValue : (UInt128)(ulong)(span.Ticks / TimeSpan.TicksPerSecond);
}

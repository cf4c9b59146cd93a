namespace PoIP.Economics.Parameters;

/// <summary>A governable parameter. Fractions are basis points (1/10,000); durations are seconds; amounts are base units.</summary>
public enum EconomicParameter
{
    /// <summary>Probability that a receipt is audited, in basis points.</summary>
    AuditProbabilityBps = 1,

    /// <summary>Fraction of the accused's slashable stake taken per proven offence, in basis points.</summary>
    SlashFractionBps = 2,

    /// <summary>Share of a slash paid to the challenger, in basis points of the slash.</summary>
    ChallengerShareBps = 3,

    /// <summary>Share of a slash paid to the public fund, in basis points of the slash (the rest is burned).</summary>
    PublicFundShareBps = 4,

    /// <summary>Protocol fee taken from each settled price for the public fund, in basis points.</summary>
    ProtocolFeeBps = 5,

    /// <summary>Seconds after an escrow opens during which fraud can still refund it.</summary>
    DisputeWindowSeconds = 6,

    /// <summary>Seconds unbonding stake waits (still slashable) before it can be withdrawn.</summary>
    UnbondingPeriodSeconds = 7,

    /// <summary>Bonded stake a node needs to serve (to have an escrow opened to it), in base units.</summary>
    MinimumStake = 8,

    /// <summary>Seconds a proposal is open for votes.</summary>
    VotingPeriodSeconds = 9,

    /// <summary>Votes cast needed, in basis points of the total bonded stake when the proposal was made.</summary>
    QuorumBps = 10,

    /// <summary>Yes share of the votes cast needed to pass, in basis points.</summary>
    ApprovalThresholdBps = 11,

    /// <summary>Seconds between the end of voting and the moment a passed proposal can take effect.</summary>
    TimelockSeconds = 12,
}

namespace PoIP.Economics.Governance;

/// <summary>Where a proposal stands.</summary>
public enum ProposalState
{
    /// <summary>Voting, or waiting out the timelock.</summary>
    Open = 1,

    /// <summary>Passed and took effect.</summary>
    Executed = 2,

    /// <summary>Missed quorum or threshold, or could not take effect (parameters inconsistent, fund too small).</summary>
    Rejected = 3,
}

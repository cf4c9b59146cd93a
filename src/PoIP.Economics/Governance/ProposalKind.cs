namespace PoIP.Economics.Governance;

/// <summary>What a proposal does when it passes.</summary>
public enum ProposalKind
{
    /// <summary>Sets one parameter.</summary>
    ParameterChange = 1,

    /// <summary>Pays a grant from the public fund.</summary>
    Grant = 2,
}

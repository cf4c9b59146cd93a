using PoIP.Core.Economics;

namespace PoIP.Economics.Governance;

/// <summary>Identity of a proposal: the operation id that created it (so the proposer knows it before submitting).</summary>
/// <param name="Value">The id.</param>
public readonly record struct ProposalId(Guid Value)
{
    /// <summary>The id of the proposal created by <paramref name="operation"/>.</summary>
    public static ProposalId From(OperationId operation) => new(operation.Value);

    /// <inheritdoc />
    public override string ToString() => Value.ToString("N");
}

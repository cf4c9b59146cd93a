using System.Numerics;
using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Evm;

public sealed partial class EvmStakeManager
{
    /// <summary>Proposes a parameter change (stake-weighted governance on chain); the result's detail is empty.</summary>
    public Task<EconomicResult> ProposeParameterAsync(OperationId operation, PeerId proposer, EconomicParameter parameter, UInt128 value, CancellationToken cancellationToken = default) =>
        SendAsAsync(proposer, new ProposeParameterFunction { Op = Op(operation), Parameter = (byte)((int)parameter - 1), Value = (BigInteger)value }, 0, cancellationToken);

    /// <summary>Votes on proposal <paramref name="proposal"/> (1-based, in creation order) with the voter's bonded stake.</summary>
    public Task<EconomicResult> VoteAsync(OperationId operation, PeerId voter, BigInteger proposal, bool support, CancellationToken cancellationToken = default) =>
        SendAsAsync(voter, new VoteFunction { Op = Op(operation), Id = proposal, Support = support }, 0, cancellationToken);

    /// <summary>Executes proposal <paramref name="proposal"/> after its voting period and timelock.</summary>
    public Task<EconomicResult> ExecuteProposalAsync(OperationId operation, PeerId caller, BigInteger proposal, CancellationToken cancellationToken = default) =>
        SendAsAsync(caller, new ExecuteFunction { Op = Op(operation), Id = proposal }, 0, cancellationToken);
}

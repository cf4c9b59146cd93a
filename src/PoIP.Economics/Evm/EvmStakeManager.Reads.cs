using System.Numerics;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Evm;

public sealed partial class EvmStakeManager
{
    // ---- reads ----

    /// <inheritdoc />
    public async Task<StakeInfo> GetStakeAsync(PeerId node, CancellationToken cancellationToken = default)
    {
        if (await AddressOfAsync(node, cancellationToken).ConfigureAwait(false) is not { } address)
        {
            return new StakeInfo(node, TokenAmount.Zero, TokenAmount.Zero, TokenAmount.Zero);
        }

        var bonded = await _chain.QueryAsync<BondedOfFunction, BigInteger>(new BondedOfFunction { Account = address }, cancellationToken).ConfigureAwait(false);
        var tranches = await _chain.QueryObjectAsync<TranchesOfFunction, TranchesOutput>(new TranchesOfFunction { Node = address }, cancellationToken).ConfigureAwait(false);
        long now = (await _chain.NowAsync(cancellationToken).ConfigureAwait(false)).ToUnixTimeSeconds();
        BigInteger unbonding = 0, withdrawable = 0;
        foreach (var tranche in tranches.Tranches)
        {
            if ((long)tranche.ReleaseAt <= now)
            {
                withdrawable += tranche.Amount;
            }
            else
            {
                unbonding += tranche.Amount;
            }
        }

        return new StakeInfo(node, Amount(bonded), Amount(unbonding), Amount(withdrawable));
    }

    /// <inheritdoc />
    public async Task<TokenAmount> GetBalanceAsync(PeerId account, CancellationToken cancellationToken = default) =>
        await AddressOfAsync(account, cancellationToken).ConfigureAwait(false) is { } address
            ? Amount(await _chain.QueryAsync<BalanceOfFunction, BigInteger>(new BalanceOfFunction { Account = address }, cancellationToken).ConfigureAwait(false))
            : TokenAmount.Zero;

    /// <inheritdoc />
    public async Task<EscrowInfo?> GetEscrowAsync(RequestId request, CancellationToken cancellationToken = default)
    {
        var escrow = await _chain.QueryObjectAsync<EscrowsFunction, EscrowOutput>(new EscrowsFunction { RequestId = request.Digest.ToArray() }, cancellationToken).ConfigureAwait(false);
        if (escrow.State == 0)
        {
            return null;
        }

        var client = await _identities.PeerOfAsync(escrow.Client, cancellationToken).ConfigureAwait(false);
        var node = await _identities.PeerOfAsync(escrow.Node, cancellationToken).ConfigureAwait(false);
        return new EscrowInfo(request, client, node, Amount(escrow.Cap), DateTimeOffset.FromUnixTimeSeconds((long)escrow.OpenedAt), (EscrowState)escrow.State, Amount(escrow.Price))
        {
            Group = escrow.Grouping == 2 && escrow.Group is { Length: Sha256Digest.Length } g ? new RequestId(new Sha256Digest(g)) : null,
        };
    }

    /// <inheritdoc />
    public async Task<EconomicTotals> GetTotalsAsync(CancellationToken cancellationToken = default)
    {
        var t = await _chain.QueryAsync<TotalsFunction, List<BigInteger>>(new TotalsFunction(), cancellationToken).ConfigureAwait(false);
        return new EconomicTotals(Amount(t[0]), Amount(t[1]), Amount(t[2]), Amount(t[3]), Amount(t[4]), Amount(t[5]), Amount(t[6]));
    }

    /// <summary>The native balance the contract holds (equals <see cref="EconomicTotals.Supply"/> when nothing leaked).</summary>
    public async Task<TokenAmount> GetContractBalanceAsync(CancellationToken cancellationToken = default) =>
        Amount((await _chain.ReadAsync(() => _chain.Web3.Eth.GetBalance.SendRequestAsync(ContractAddress), cancellationToken).ConfigureAwait(false)).Value);

    /// <summary>The latest block number.</summary>
    public async Task<BigInteger> GetBlockNumberAsync(CancellationToken cancellationToken = default) =>
        (await _chain.ReadAsync(() => _chain.Web3.Eth.Blocks.GetBlockNumber.SendRequestAsync(), cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>The parameters in force on chain.</summary>
    public async Task<EconomicParameters> GetParametersAsync(CancellationToken cancellationToken = default)
    {
        var values = await _chain.QueryAsync<GetParametersFunction, List<BigInteger>>(new GetParametersFunction(), cancellationToken).ConfigureAwait(false);
        return EconomicParameters.FromValues(Enum.GetValues<EconomicParameter>().ToDictionary(p => p, p => (UInt128)values[(int)p - 1]));
    }

    /// <inheritdoc />
    public async Task<bool> IsValidatorAsync(PeerId peer, CancellationToken cancellationToken = default) =>
        await AddressOfAsync(peer, cancellationToken).ConfigureAwait(false) is { } address && await _chain.QueryAsync<IsValidatorFunction, bool>(new IsValidatorFunction { Account = address }, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<bool> CanServeAsync(PeerId node, CancellationToken cancellationToken = default)
    {
        var rules = await GetRulesAsync(cancellationToken).ConfigureAwait(false);
        var stake = await GetStakeAsync(node, cancellationToken).ConfigureAwait(false);
        return !stake.Bonded.IsZero && stake.Bonded >= rules.MinimumStake;
    }

    /// <inheritdoc />
    public async Task<EconomicRules> GetRulesAsync(CancellationToken cancellationToken = default)
    {
        var parameters = await GetParametersAsync(cancellationToken).ConfigureAwait(false);
        bool registered = await _chain.QueryAsync<RequireRegisteredValidatorFunction, bool>(new RequireRegisteredValidatorFunction(), cancellationToken).ConfigureAwait(false);
        return new EconomicRules(parameters.MinimumStake, parameters.DisputeWindow, parameters.UnbondingPeriod, parameters.ProtocolFeeBps, registered);
    }
}

using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>Tops an account up to the dev balance and stake (development ledgers only; the first deposit opens the account).</summary>
internal static class DevFunding
{
    public static async Task<string> ApplyAsync(IStakeManager stakes, IDevFaucet faucet, PeerId account, DevFundingOptions options, CancellationToken cancellationToken)
    {
        var stake = await stakes.GetStakeAsync(account, cancellationToken).ConfigureAwait(false);
        var balance = await stakes.GetBalanceAsync(account, cancellationToken).ConfigureAwait(false);
        var toStake = options.Stake > stake.Bonded ? options.Stake - stake.Bonded : TokenAmount.Zero;
        var wanted = options.Balance + toStake;
        var minted = TokenAmount.Zero;
        if (balance < wanted)
        {
            minted = wanted - balance;
            Require(await faucet.DepositAsync(OperationId.New(), account, minted, cancellationToken).ConfigureAwait(false), "mint");
        }

        if (toStake > TokenAmount.Zero)
        {
            Require(await stakes.StakeAsync(OperationId.New(), account, toStake, cancellationToken).ConfigureAwait(false), "stake");
        }

        bool registered = false;
        if (options.RegisterValidator && !await stakes.IsValidatorAsync(account, cancellationToken).ConfigureAwait(false))
        {
            Require(await stakes.RegisterValidatorAsync(OperationId.New(), account, cancellationToken).ConfigureAwait(false), "register as validator");
            registered = true;
        }

        return $"minted {minted}, staked {toStake}{(registered ? ", registered as validator" : string.Empty)}";
    }

    private static void Require(EconomicResult result, string what)
    {
        if (!result.IsApplied)
        {
            throw new PoIPStartupException("hosting.dev_funding_failed", $"Dev funding: {what} refused: {result.Status} {result.Detail}");
        }
    }
}

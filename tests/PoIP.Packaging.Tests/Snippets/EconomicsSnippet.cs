using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Embedded;
using PoIP.Economics.Parameters;

namespace PoIP.Packaging.Tests.Snippets;

/// <summary>The example of src/PoIP.Economics/README.md.</summary>
internal static class EconomicsSnippet
{
    public static async Task<(TokenAmount Balance, TokenAmount Staked)> RunAsync(string dataDirectory)
    {
        // begin-snippet: economics
        // The embedded ledger: SQLite (WAL), every operation idempotent by its OperationId, money conserved.
        using var economics = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions
        {
            DatabasePath = Path.Combine(dataDirectory, "economics.db"),
            TimeProvider = TimeProvider.System,              // FakeTimeProvider in tests
            InitialParameters = EconomicParameters.Default,  // written at genesis only
        });
        using var nodeKey = Ed25519KeyPair.Generate();
        PeerId node = nodeKey.PeerId;
        await economics.DepositAsync(OperationId.Derive("faucet", node.Bytes), node, TokenAmount.FromTokens(1_000));
        await economics.StakeAsync(OperationId.New(), node, TokenAmount.FromTokens(500));
        TokenAmount balance = await economics.GetBalanceAsync(node);  // 500 left to spend
        StakeInfo stake = await economics.GetStakeAsync(node);        // 500 bonded, slashable
        // end-snippet
        return (balance, stake.Bonded);
    }
}

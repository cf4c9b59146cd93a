using PoIP.Testing.Chain;
using PoIP.Testing.LocalNetwork;

namespace PoIP.Node.Commands.Chain;

/// <summary>
/// The money of <c>poip demo --chain</c>: <c>dev</c> starts a fresh Anvil (stopped with the demo) and
/// deploys PoIPLedger; a URL with <c>--deployment FILE</c> uses that deployment on a running dev chain.
/// </summary>
internal static class DemoChain
{
    /// <summary>Checks the flags before anything starts; reads the deployment file. Null when the demo uses the embedded ledger.</summary>
    public static ChainDeployment? Validate(string? chain, string? deployment)
    {
        if (chain is null)
        {
            return deployment is null ? null : throw new ArgumentException("--deployment needs --chain URL.");
        }

        if (chain == "dev")
        {
            return deployment is null ? null : throw new ArgumentException("--chain dev deploys its own ledger: drop --deployment (or give --chain URL).");
        }

        if (!Uri.TryCreate(chain, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"--chain must be 'dev' or an http(s) RPC URL (got '{chain}').");
        }

        return ChainDeployment.Load(deployment ?? throw new ArgumentException("--chain URL needs --deployment FILE (from 'poip chain dev' or 'poip chain deploy')."));
    }

    /// <summary>The ledger factory for <see cref="LocalNetworkOptions.Ledger"/>.</summary>
    public static Func<CancellationToken, Task<ILocalNetworkLedger>>? Factory(string? chain, ChainDeployment? deployment, Action<string> describe) => chain switch
    {
        null => null,
        "dev" => async ct =>
        {
            var anvil = await AnvilProcess.StartAsync(cancellationToken: ct);
            try
            {
                var deployed = await ChainDevCommand.DeployAsync(anvil.RpcUrl, accounts: 0, ct);
                describe($"fresh dev chain {deployed.ChainId} at {anvil.RpcUrl.ToString().TrimEnd('/')}, {ChainDeployment.LedgerName} at {deployed.Ledger}");
                return await ChainLedger.ConnectAsync(anvil.RpcUrl, deployed.Ledger, anvil, ct);
            }
            catch
            {
                await anvil.DisposeAsync();
                throw;
            }
        },
        _ => async ct =>
        {
            var url = new Uri(chain);
            using (var check = await ChainReads.ConnectAsync(url, deployment!, ct))
            {
                describe($"chain {deployment!.ChainId} at {chain}, {ChainDeployment.LedgerName} at {deployment.Ledger}");
            }

            return await ChainLedger.ConnectAsync(url, deployment!.Ledger, owned: null, ct);
        },
    };
}

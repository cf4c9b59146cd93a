using PoIP.Hosting.DependencyInjection;

namespace PoIP.Node.Commands.Chain;

/// <summary>
/// Where a role's money lives, chosen by its flags before anything starts: the shared SQLite ledger
/// (<c>--ledger FILE</c>) or PoIPLedger on a chain (<c>--chain URL --deployment FILE</c>, acting
/// with <c>--chain-key FILE</c>, default beside the identity key and created when absent).
/// </summary>
internal sealed record RoleEconomics(string? LedgerPath, Uri? ChainUrl, ChainDeployment? Deployment, string? ChainKeyFlag)
{
    /// <summary>Checks the flags (and the config file's <c>ledger</c>, <c>chain</c>, <c>deployment</c>); reads the deployment file.</summary>
    /// <exception cref="ArgumentException">Missing or conflicting flags, a malformed URL.</exception>
    /// <exception cref="FileNotFoundException">The deployment file does not exist.</exception>
    /// <exception cref="InvalidDataException">The deployment file is malformed.</exception>
    public static RoleEconomics From(RoleSettings settings, RoleConfig config)
    {
        string? chain = settings.Chain ?? (settings.Ledger is null ? config.Chain : null); // a flag beats the config file
        string? ledger = config.PathOf(settings.Ledger, chain is null ? config.Ledger : null);
        string? deployment = config.PathOf(settings.Deployment, config.Deployment);
        string? chainKey = config.PathOf(settings.ChainKey, config.ChainKey);
        if (settings.Ledger is not null && settings.Chain is not null)
        {
            throw new ArgumentException("--ledger and --chain are two ledgers: pick one.");
        }

        if (chain is null)
        {
            if (settings.Deployment is not null || settings.ChainKey is not null)
            {
                throw new ArgumentException($"{(settings.Deployment is not null ? "--deployment" : "--chain-key")} needs --chain URL.");
            }

            return new RoleEconomics(ledger ?? throw new ArgumentException("a ledger is required: --ledger FILE, or --chain URL --deployment FILE (or \"ledger\" / \"chain\" in the config file)."), null, null, null);
        }

        if (!Uri.TryCreate(chain, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"--chain must be an http(s) RPC URL, e.g. http://127.0.0.1:8545 (got '{chain}').");
        }

        if (deployment is null)
        {
            throw new ArgumentException("--chain needs --deployment FILE (written by 'poip chain dev' or 'poip chain deploy').");
        }

        return new RoleEconomics(null, url, ChainDeployment.Load(deployment), chainKey);
    }

    /// <summary>Adds the chosen back end to the host; on a chain, reads (or creates) the role's chain key. <paramref name="dev"/>: a development chain funds the account.</summary>
    public PoIPBuilder AddTo(PoIPBuilder poip, string identityKey, bool dev)
    {
        if (LedgerPath is { } path)
        {
            return poip.AddEmbeddedEconomics(o => o.DatabasePath = path);
        }

        string key = ChainKeyFile.ReadOrCreate(ChainKeyFlag ?? ChainKeyFile.BesideIdentity(identityKey));
        return poip.AddEvmEconomics(o =>
        {
            o.RpcUrl = ChainUrl!.ToString();
            o.ContractAddress = Deployment!.Ledger;
            o.AccountPrivateKey = key;
            o.ReceiptPollInterval = TimeSpan.FromMilliseconds(10);
            o.CallTimeout = TimeSpan.FromSeconds(15);
            o.DevChain = dev;
        });
    }
}

using PoIP.Network.Addressing;

namespace PoIP.Node.Commands;

/// <summary>
/// How the demo's roles find each other and settle: the one place that names the discovery and
/// settlement flags of <c>node run</c>, <c>validator run</c>, <c>client ask</c> and <c>gateway run</c>:
/// <see cref="SharedLedgerWiring"/> (handed addresses, one SQLite file) or <see cref="DhtChainWiring"/>
/// (a DHT bootstrap peer, PoIPLedger on a chain).
/// </summary>
internal interface IRoleWiring
{
    /// <summary>What the role needs to reach the ledger (and, with <c>--dev</c>, fund itself).</summary>
    IReadOnlyList<string> Settlement(string role);

    /// <summary>What a serving role needs to be found (nothing while clients are handed addresses).</summary>
    IReadOnlyList<string> Announce(string role);

    /// <summary>What the client needs to find the nodes and the validator.</summary>
    IReadOnlyList<string> Discovery(IEnumerable<Multiaddr> nodes, IEnumerable<Multiaddr> validators);
}

/// <summary>Fixed addresses (<c>--peer</c>, <c>--validator</c>) and one SQLite ledger file shared by every role (<c>--ledger</c>, <c>--dev</c>).</summary>
internal sealed class SharedLedgerWiring(string ledgerPath) : IRoleWiring
{
    public string LedgerPath { get; } = ledgerPath;

    public IReadOnlyList<string> Settlement(string role) => ["--ledger", LedgerPath, "--dev"];

    public IReadOnlyList<string> Announce(string role) => [];

    public IReadOnlyList<string> Discovery(IEnumerable<Multiaddr> nodes, IEnumerable<Multiaddr> validators) =>
        [.. nodes.SelectMany(n => (string[])["--peer", n.ToString()]), .. validators.SelectMany(v => (string[])["--validator", v.ToString()])];
}

/// <summary>
/// Discovery through the DHT (<c>--bootstrap</c>: serving roles announce themselves there, the gateway finds
/// nodes there) and settlement on a chain (<c>--chain URL --deployment FILE --dev</c>; each role's own chain key,
/// created beside its identity key and funded by the dev chain). Each role gets its own copy of the deployment
/// file (public data: chain id and contract address) in its own folder, so no file is shared between hosts.
/// Validators are found there too: each announces itself as a validator of its model, and the gateway hands its
/// answers to the ones it finds (no <c>--validator</c>).
/// </summary>
internal sealed class DhtChainWiring(string chainUrl, string deployment, string bootstrap, IRolePlacement placement) : IRoleWiring
{
    public string ChainUrl { get; } = chainUrl;

    public string Bootstrap { get; } = bootstrap;

    /// <summary>The role's own copy of the deployment file.</summary>
    public string DeploymentOf(string role)
    {
        string copy = Path.Combine(placement.FolderOf(role), "deployment.json");
        if (!File.Exists(copy))
        {
            File.Copy(deployment, copy);
        }

        return copy;
    }

    public IReadOnlyList<string> Settlement(string role) => ["--chain", ChainUrl, "--deployment", DeploymentOf(role), "--dev"];

    public IReadOnlyList<string> Announce(string role) => ["--bootstrap", Bootstrap];

    public IReadOnlyList<string> Discovery(IEnumerable<Multiaddr> nodes, IEnumerable<Multiaddr> validators) =>
        ["--bootstrap", Bootstrap];
}

using PoIP.Network.Addressing;

namespace PoIP.Node.Commands;

/// <summary>
/// How the demo's roles find each other and settle: the one place that names the discovery and
/// settlement flags of <c>node run</c>, <c>validator run</c> and <c>client ask</c>. Today:
/// <see cref="SharedLedgerWiring"/>. When the DHT and the chain land, a wiring that passes
/// <c>--bootstrap</c> and the chain's flags replaces it without touching the demo.
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

using System.Text.Json;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Node.Commands;
using PoIP.Node.Hosts;
using PoIP.TestUtils;

namespace PoIP.Hosts.Tests;

/// <summary>
/// One network for the chaos tests of <see cref="NetworkChaosTests"/>, each role on its own host with its own keys
/// and folder and nothing shared but the wire: a chain host (<c>poip chain dev --host ADDR --dispute-window 60</c>),
/// a DHT bootstrap host (<c>poip dht serve</c>), two nodes (<c>--bootstrap</c> and <c>--chain</c> only), a gateway
/// (<c>gateway run --bootstrap</c>, round robin), a validator host (started by the tests that need it: the gateway
/// finds it in the DHT) and a user host (<c>gateway ask</c>, <c>ledger show --chain</c>).
/// Built once per class (start-up is most of the cost); each test leaves it as it found it (a killed role restarted,
/// a partition healed, its payments settled).
/// </summary>
public sealed class ChainNetworkFixture : IAsyncLifetime
{
    public const int DisputeWindowSeconds = 60; // the ledger's smallest

    /// <summary>The dev chain's protocol fee on settled prices (EconomicParameters.Default).</summary>
    public const ulong ProtocolFeeBps = 100;
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(180);

    private HostLab? _lab;
    private readonly Dictionary<string, LabProcess> _roles = [];

    internal HostLab Lab => _lab ?? throw new InvalidOperationException("not supported here");

    internal string ChainUrl { get; private set; } = string.Empty;

    internal string Bootstrap { get; private set; } = string.Empty;

    internal string GatewayUrl { get; private set; } = string.Empty;

    internal Dictionary<string, PeerId> Nodes { get; } = [];

    internal LabHost Host(string role) => Lab.Hosts.Single(h => h.Name == role);

    internal LabProcess Role(string role) => _roles[role];

    private static string Model => RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found beside the checkout (../shared/models)");

    public async Task InitializeAsync()
    {
        if (HostLab.Unsupported() is not null)
        {
            return;
        }

        _lab = HostLab.Create(handleSignals: false);
        foreach (string role in (string[])["chain", "bootstrap", "node-1", "node-2", "validator", "gateway", "user"])
        {
            Lab.AddHost(role);
        }

        var chain = Host("chain");
        string deployment = Path.Combine(chain.Directory, "deployment.json");
        _roles["chain"] = Lab.StartPoip(chain, ["chain", "dev", "--host", chain.Address.ToString(), "--out", deployment, "--accounts", "1", "--dispute-window", DisputeWindowSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        _roles["bootstrap"] = Lab.StartPoip(Host("bootstrap"), ["dht", "serve", "--listen", Host("bootstrap").ListenAddress(4001)]);
        ChainUrl = await _roles["chain"].WaitForLineAsync(l => l.StartsWith("http://", StringComparison.Ordinal), Limit);
        Bootstrap = await _roles["bootstrap"].WaitForLineAsync(l => l.StartsWith("/ip4/", StringComparison.Ordinal), Limit);
        foreach (var host in Lab.Hosts.Where(h => h.Name != "chain"))
        {
            File.Copy(deployment, Path.Combine(host.Directory, "deployment.json")); // each host its own copy: public data
        }

        foreach (string node in (string[])["node-1", "node-2"])
        {
            _roles[node] = StartNode(node);
        }

        foreach (string node in (string[])["node-1", "node-2"])
        {
            string address = await _roles[node].WaitForLineAsync(l => l.StartsWith("/ip4/", StringComparison.Ordinal), Limit);
            Nodes[node] = PeerId.Parse(address[(address.LastIndexOf('/') + 1)..]);
        }

        await StartGatewayAsync();
    }

    /// <summary>A node on its host (same key, folder and address every time): found through the DHT, paid on the chain.</summary>
    internal LabProcess StartNode(string role, params string[] extra)
    {
        var host = Host(role);
        return _roles[role] = Lab.StartPoip(host, ["node", "run", .. Chain(host), "--bootstrap", Bootstrap, "--key", host.KeyFile, "--listen", host.ListenAddress(4001), "--stake", "200", "--model", Model, "--max-tokens", "128", "--threads", "1", "--stop-on-stdin-close", .. extra]);
    }

    /// <summary>
    /// The validator on its host (same key, folder and address every time): audits every answer handed to it
    /// (<c>--audit-p 1</c>) and announces itself in the DHT as a validator of the model, where the gateway finds it.
    /// </summary>
    internal LabProcess StartValidator()
    {
        var host = Host("validator");
        return _roles["validator"] = Lab.StartPoip(host, ["validator", "run", .. Chain(host), "--bootstrap", Bootstrap, "--key", host.KeyFile, "--listen", host.ListenAddress(4001), "--audit-p", "1", "--model", Model, "--threads", "1", "--stop-on-stdin-close"]);
    }

    /// <summary>Stops a node (stdin closed: a clean stop) and starts it again with <paramref name="extra"/> flags; returns once it serves.</summary>
    internal async Task RestartNodeAsync(string role, params string[] extra)
    {
        var old = _roles[role];
        old.CloseInput();
        await old.WaitForExitAsync(Limit);
        old.Dispose();
        await StartNode(role, extra).WaitForLineAsync(l => l.StartsWith("/ip4/", StringComparison.Ordinal), Limit);
    }

    /// <summary>The gateway on its host (same key and address every time), finding the nodes in the DHT; returns once it serves.</summary>
    internal async Task StartGatewayAsync()
    {
        var host = Host("gateway");
        _roles["gateway"] = Lab.StartPoip(host, ["gateway", "run", .. Chain(host), "--bootstrap", Bootstrap, "--key", host.KeyFile, "--http", $"{host.Address}:8080", "--model", Model, "--max-tokens", "128", "--selection", "round-robin"]);
        const string Announced = "OpenAI-compatible API at ";
        string api = (await _roles["gateway"].WaitForLineAsync(l => l.StartsWith(Announced, StringComparison.Ordinal), Limit))[Announced.Length..];
        GatewayUrl = api[..^"/v1".Length];
    }

    /// <summary>
    /// Starts <c>poip gateway ask</c> on the user host (waits until the gateway knows both nodes; with
    /// <paramref name="auditWait"/> &gt; 0 each answer's audit is read from <c>/v1/receipts/ID?wait=S</c>).
    /// </summary>
    internal LabProcess StartAsk(int repeat, int maxTokens, int auditWait = 0) =>
        Lab.StartPoip(Host("user"), ["gateway", "ask", "--url", GatewayUrl, "--repeat", repeat.ToString(System.Globalization.CultureInfo.InvariantCulture), "--max-tokens", maxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--audit-wait", auditWait.ToString(System.Globalization.CultureInfo.InvariantCulture), "--wait-nodes", "2", "--timeout", "60", "--json", "Once upon a time", "The cat sat on the mat and"]);

    /// <summary>The chain as the user host reads it (<c>poip ledger show --chain --json</c>): totals, the contract check, the nodes' accounts.</summary>
    internal async Task<NetworkHostsDemo.ChainState> ReadChainAsync()
    {
        var user = Host("user");
        using var show = Lab.StartPoip(user, ["ledger", "show", "--chain", ChainUrl, "--deployment", Path.Combine(user.Directory, "deployment.json"), "--json", .. Nodes.Values.SelectMany(p => (string[])["--peer", p.ToString()])]);
        int exit = await show.WaitForExitAsync(Limit);
        Assert.True(exit is 0 or 1, show.Tail());
        return NetworkHostsDemo.ChainState.Parse(show.Stdout.Last(l => l.StartsWith('{')));
    }

    /// <summary>Reads the chain until <paramref name="done"/> holds (bounded polling of an external process, with a deadline).</summary>
    internal async Task<NetworkHostsDemo.ChainState> WaitForChainAsync(Func<NetworkHostsDemo.ChainState, bool> done, TimeSpan limit, string what)
    {
        var started = TimeProvider.System.GetTimestamp();
        NetworkHostsDemo.ChainState state;
        do
        {
            state = await ReadChainAsync(); // each read is a process start: about a second apart
            if (done(state))
            {
                return state;
            }
        }
        while (TimeProvider.System.GetElapsedTime(started) < limit);

        throw new TimeoutException($"{what}: not within {limit.TotalSeconds:0} s; last read: block {state.Block}, escrowed {state.Totals.Escrowed}; {string.Join(", ", state.Accounts.Select(a => $"{a.Key}: {a.Value.Balance}"))}");
    }

    /// <summary>Answers (lines with a <c>node</c>) and errors of a <c>gateway ask --json</c> run.</summary>
    internal static (List<JsonElement> Answers, List<JsonElement> Errors) Lines(LabProcess ask)
    {
        var lines = ask.Stdout.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).Where(l => l.TryGetProperty("index", out _)).ToList();
        return ([.. lines.Where(l => l.TryGetProperty("node", out _))], [.. lines.Where(l => l.TryGetProperty("error", out _))]);
    }

    /// <summary>What the answers in <paramref name="answers"/> pay their nodes: each price less the ledger's 1 % protocol fee (rounded down, as the ledger does).</summary>
    internal Dictionary<PeerId, TokenAmount> PricesByNode(IEnumerable<JsonElement> answers)
    {
        var sums = Nodes.Values.ToDictionary(p => p, _ => TokenAmount.Zero);
        foreach (var answer in answers)
        {
            var node = PeerId.Parse(answer.GetProperty("node").GetString()!);
            var price = TokenAmount.ParseTokens(answer.GetProperty("price").GetString()!);
            sums[node] += price - price.MultiplyFraction(ProtocolFeeBps, 10_000);
        }

        return sums;
    }

    public async Task DisposeAsync()
    {
        foreach (var role in _roles.Values)
        {
            role.Dispose();
        }

        if (_lab is not null)
        {
            await _lab.DisposeAsync();
        }
    }

    private string[] Chain(LabHost host) => ["--chain", ChainUrl, "--deployment", Path.Combine(host.Directory, "deployment.json"), "--dev"];
}

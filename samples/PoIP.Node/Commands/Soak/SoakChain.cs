using System.Numerics;
using System.Text.Json.Nodes;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Web3;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Economics.Evm;
using PoIP.Node.Commands.Chain;
using PoIP.Testing.Chain;

#pragma warning disable CA1812 // instantiated by Nethereum's decoder
#pragma warning disable CA1819 // byte[] properties: Nethereum's ABI binding needs them

namespace PoIP.Node.Commands.Soak;

/// <summary>
/// The soak's money on the dev chain (<c>--wiring dht-chain</c>): reads PoIPLedger's escrow events (opened, settled,
/// refunded: one <c>eth_getLogs</c> each), waits (bounded polling of the chain) until the nodes claimed every answered
/// request, then moves the chain's clock past twice the dispute window and refunds the escrows nobody answered (refused
/// or failed attempts) with the gateway's own chain key: the contract lets anyone refund an abandoned escrow.
/// </summary>
internal sealed class SoakChain : IDisposable
{
    private readonly EvmStakeManager _manager;
    private readonly DevChainControl _control;
    private readonly Web3 _web3;
    private readonly string _contract;

    private SoakChain(EvmStakeManager manager, DevChainControl control, Web3 web3, string contract)
    {
        _manager = manager;
        _control = control;
        _web3 = web3;
        _contract = contract;
    }

    public static async Task<SoakChain> ConnectAsync(Uri rpc, string deploymentFile, CancellationToken cancellationToken)
    {
        var deployment = ChainDeployment.Load(deploymentFile);
        var manager = await EvmStakeManager.ConnectAsync(new EvmStakeManagerOptions { RpcUrl = rpc, ContractAddress = deployment.Ledger, Accounts = new EvmAccounts(), ReceiptPollInterval = TimeSpan.FromMilliseconds(2), DevChain = true }, cancellationToken);
        return new SoakChain(manager, new DevChainControl(rpc), new Web3(rpc.ToString()), deployment.Ledger);
    }

    /// <summary>The contract's rules (dispute window, protocol fee).</summary>
    public Task<EconomicRules> RulesAsync(CancellationToken cancellationToken) => _manager.GetRulesAsync(cancellationToken);

    /// <summary>Every escrow the contract opened: request id (lower-case hex) and its group (the request id of the first escrow of its request; itself when alone).</summary>
    public async Task<Dictionary<string, string>> OpenedAsync() =>
        (await LogsAsync<EscrowOpenedEvent>()).GroupBy(e => Hex(e.RequestId))
            .ToDictionary(g => g.Key, g => g.First().Group.AsSpan().IndexOfAnyExcept((byte)0) < 0 ? g.Key : Hex(g.First().Group), StringComparer.Ordinal);

    /// <summary>Every settlement the contract made: request id and the prices paid (more than one would be a double charge).</summary>
    public async Task<Dictionary<string, List<BigInteger>>> SettledAsync() =>
        (await LogsAsync<EscrowSettledEvent>()).GroupBy(e => Hex(e.RequestId)).ToDictionary(g => g.Key, g => g.Select(e => e.Price).ToList(), StringComparer.Ordinal);

    /// <summary>Every refund the contract made.</summary>
    public async Task<HashSet<string>> RefundedAsync() =>
        [.. (await LogsAsync<EscrowRefundedEvent>()).Select(e => Hex(e.RequestId))];

    /// <summary>
    /// Polls the chain's settlements (every second, at most <paramref name="limit"/>) until every answered request is
    /// settled (one escrow of its group): the nodes claim their receipts themselves once the dispute window has passed.
    /// Returns how many are still unsettled.
    /// </summary>
    public async Task<(int Unsettled, TimeSpan Waited)> WaitForClaimsAsync(IReadOnlyCollection<string> answered, TimeSpan limit, CancellationToken cancellationToken)
    {
        long started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            var opened = await OpenedAsync();
            var settled = await SettledAsync();
            var paidGroups = settled.Keys.Select(id => opened.GetValueOrDefault(id, id)).ToHashSet(StringComparer.Ordinal);
            int unsettled = answered.Count(id => !paidGroups.Contains(opened.GetValueOrDefault(id, id)));
            if (unsettled == 0 || TimeProvider.System.GetElapsedTime(started) > limit)
            {
                return (unsettled, TimeProvider.System.GetElapsedTime(started));
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken); // polling an external process (the chain), bounded by the limit
        }
    }

    /// <summary>
    /// Moves the chain's clock past twice the dispute window and refunds every open escrow that answers no request, or
    /// whose request was paid through another attempt of its group, sent from the escrows' client account with
    /// <paramref name="gatewayChainKey"/>. Returns how many were refunded.
    /// </summary>
    public async Task<int> RefundAbandonedAsync(IReadOnlySet<string> answered, string gatewayChainKey, TimeSpan disputeWindow, CancellationToken cancellationToken)
    {
        var opened = await OpenedAsync();
        var settled = await SettledAsync();
        var refunded = await RefundedAsync();
        var paidGroups = settled.Keys.Select(id => opened.GetValueOrDefault(id, id)).ToHashSet(StringComparer.Ordinal);
        var open = opened.Keys.Where(id => !settled.ContainsKey(id) && !refunded.Contains(id) && (!answered.Contains(id) || paidGroups.Contains(opened[id]))).ToList();
        if (open.Count == 0)
        {
            return 0;
        }

        await _control.AdvanceTimeAsync((2 * disputeWindow) + TimeSpan.FromSeconds(1), cancellationToken);
        var clients = new HashSet<PeerId>();
        int done = 0;
        foreach (string id in open)
        {
            var request = new RequestId(Sha256Digest.ParseHex(id));
            if (await _manager.GetEscrowAsync(request, cancellationToken) is not { State: EscrowState.Open } escrow)
            {
                continue;
            }

            if (clients.Add(escrow.Client))
            {
                _manager.Accounts.Add(escrow.Client, gatewayChainKey);
            }

            done += (await _manager.RefundEscrowAsync(OperationId.Derive("escrow-refund-abandoned", request.Digest.ToArray()), request, cancellationToken)).IsApplied ? 1 : 0;
        }

        return done;
    }

    /// <summary>How long past the dispute window the soak waits for the nodes' claims.</summary>
    public static readonly TimeSpan NodeClaimSlack = TimeSpan.FromMinutes(2);

    /// <summary><c>poip ledger show --chain … --json</c> (its own process, its own copy of the deployment file): the chain's totals and these peers' accounts.</summary>
    public static async Task<NetworkHostsDemo.ChainState> ReadStateAsync(IRolePlacement placement, DhtChainWiring wiring, IEnumerable<PeerId> peers, CancellationToken cancellationToken)
    {
        using var show = placement.Start("reader", ["ledger", "show", "--chain", wiring.ChainUrl, "--deployment", wiring.DeploymentOf("reader"), "--json", .. peers.SelectMany(p => (string[])["--peer", p.ToString()])]);
        show.StandardInput.Close();
        var stderr = show.StandardError.ReadToEndAsync(cancellationToken);
        string stdout = await show.StandardOutput.ReadToEndAsync(cancellationToken).WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
        await show.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
        string? line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
        if (show.ExitCode is not (0 or 1) || line is null)
        {
            throw new InvalidOperationException($"reading the chain failed (exit {show.ExitCode}): {(await stderr).Trim()}");
        }

        return NetworkHostsDemo.ChainState.Parse(line);
    }

    /// <summary>
    /// The soak's close on the chain, while the roles still run: waits for the nodes' claims (the dispute window plus
    /// <see cref="NodeClaimSlack"/>), stops the roles, refunds the abandoned escrows, reads the chain again and checks: every
    /// answered request settled exactly once and nothing else settled; every node's balance grew by exactly what its answers
    /// earned (price less the protocol fee); no escrow open and nothing escrowed; money conserved; the contract holds its supply.
    /// </summary>
    public static async Task<(SoakLedgerResult Money, int NotSettledByNodes, TimeSpan Waited, JsonObject Report)> CloseAndCheckAsync(
        IRolePlacement placement, DhtChainWiring wiring, IReadOnlyList<SoakRole> roles, string gatewayKey, IReadOnlyList<PeerId> nodes, NetworkHostsDemo.ChainState before, IReadOnlyList<SoakAnswer> answers, CancellationToken cancellationToken)
    {
        var answered = answers.Select(a => Normalize(a.RequestId)).ToHashSet(StringComparer.Ordinal);
        using var chain = await ConnectAsync(new Uri(wiring.ChainUrl), wiring.DeploymentOf("soak"), cancellationToken);
        var rules = await chain.RulesAsync(cancellationToken);
        var (unsettled, waited) = await chain.WaitForClaimsAsync(answered, rules.DisputeWindow + NodeClaimSlack, cancellationToken);
        foreach (var role in roles)
        {
            await role.StopAsync();
        }

        int refundedAtEnd = await chain.RefundAbandonedAsync(answered, ChainKeyFile.Read(ChainKeyFile.BesideIdentity(gatewayKey)), rules.DisputeWindow, cancellationToken);
        var after = await ReadStateAsync(placement, wiring, nodes, cancellationToken);
        var opened = await chain.OpenedAsync();
        var settled = await chain.SettledAsync();
        var refunded = await chain.RefundedAsync();
        var escrows = opened.Select(o => new SoakEscrow(o.Key, o.Value, settled.ContainsKey(o.Key))).ToList();
        var payments = SoakPayments.Count(escrows, answered);

        // An answer paid through another attempt of its request earned that attempt's node what its receipt claimed.
        var paidTo = new List<(string NodeId, TokenAmount Price)>(answers.Count);
        foreach (var answer in answers)
        {
            string? instead = SoakPayments.PaidInstead(Normalize(answer.RequestId), escrows);
            var escrow = instead is null ? null : await chain._manager.GetEscrowAsync(new RequestId(Sha256Digest.ParseHex(instead)), cancellationToken);
            paidTo.Add(escrow is null ? (answer.NodeId, TokenAmount.ParseTokens(answer.Price)) : (escrow.Node.ToString(), escrow.Price));
        }

        var earned = EarnedByNode(paidTo, rules.ProtocolFeeBps);
        var perNode = new JsonArray();
        bool balancesMatch = true;
        foreach (var node in nodes)
        {
            var expected = earned.GetValueOrDefault(node.ToString(), TokenAmount.Zero);
            var grew = after.Accounts[node].Balance - before.Accounts[node].Balance;
            balancesMatch &= grew == expected;
            perNode.Add(new JsonObject
            {
                ["node_id"] = node.ToString(),
                ["answers"] = answers.Count(a => a.NodeId == node.ToString()),
                ["earned_expected"] = expected.ToString(),
                ["balance_grew"] = grew.ToString(),
            });
        }

        // An answer from a node the soak did not start would be money paid to a stranger.
        balancesMatch &= earned.Keys.All(id => nodes.Any(n => n.ToString() == id));
        int open = opened.Keys.Count(id => !settled.ContainsKey(id) && !refunded.Contains(id));
        var money = new SoakLedgerResult(
            opened.Count,
            settled.Count,
            0,
            refundedAtEnd,
            settled.Count,
            refunded.Count,
            open,
            payments.AnsweredNotPaid,
            payments.PaidNotAnswered + settled.Values.Sum(prices => prices.Count - 1),
            answers.Count - answered.Count,
            after.Totals.IsConserved,
            JournalMatches: null,
            ContractHoldsSupply: after.ContractHoldsSupply,
            BalancesMatch: balancesMatch,
            EscrowedAtEnd: after.Totals.Escrowed,
            GroupsPaidTwice: payments.GroupsPaidTwice,
            PaidThroughOtherAttempt: payments.PaidThroughOtherAttempt);
        var report = new JsonObject
        {
            ["dispute_window_s"] = rules.DisputeWindow.TotalSeconds,
            ["protocol_fee_bps"] = rules.ProtocolFeeBps,
            ["escrowed_at_end"] = after.Totals.Escrowed.ToString(),
            ["supply"] = after.Totals.Supply.ToString(),
            ["block"] = after.Block,
            ["nodes"] = perNode,
        };
        return (money, unsettled, waited, report);
    }

    /// <summary>What each node should have earned: the sum over the payments for its answers of price minus the protocol fee (rounded down, as the contract does).</summary>
    public static Dictionary<string, TokenAmount> EarnedByNode(IEnumerable<(string NodeId, TokenAmount Price)> payments, uint protocolFeeBps)
    {
        var sums = new Dictionary<string, TokenAmount>(StringComparer.Ordinal);
        foreach (var (nodeId, price) in payments)
        {
            sums[nodeId] = sums.GetValueOrDefault(nodeId, TokenAmount.Zero) + (price - price.MultiplyFraction(protocolFeeBps, 10_000));
        }

        return sums;
    }

    /// <summary>A request id as the soak compares them: lower-case hex of its 32 bytes.</summary>
    public static string Normalize(string requestId) => Sha256Digest.ParseHex(requestId).ToString();

    public void Dispose() => _manager.Dispose();

    private async Task<List<T>> LogsAsync<T>()
        where T : IEventDTO, new()
    {
        var handler = _web3.Eth.GetEvent<T>(_contract);
        var logs = await handler.GetAllChangesAsync(handler.CreateFilterInput(BlockParameter.CreateEarliest(), BlockParameter.CreateLatest())).WaitAsync(TimeSpan.FromSeconds(60));
        return [.. logs.Select(l => l.Event)];
    }

    private static string Hex(byte[] id) => Convert.ToHexStringLower(id);

    [Event("EscrowOpened")]
    private sealed class EscrowOpenedEvent : IEventDTO
    {
        [Parameter("bytes32", "requestId", 1, true)]
        public byte[] RequestId { get; set; } = [];

        [Parameter("address", "client", 2, true)]
        public string Client { get; set; } = string.Empty;

        [Parameter("address", "node", 3, true)]
        public string Node { get; set; } = string.Empty;

        [Parameter("uint256", "cap", 4, false)]
        public BigInteger Cap { get; set; }

        [Parameter("bytes32", "group", 5, false)]
        public byte[] Group { get; set; } = [];
    }

    [Event("EscrowSettled")]
    private sealed class EscrowSettledEvent : IEventDTO
    {
        [Parameter("bytes32", "requestId", 1, true)]
        public byte[] RequestId { get; set; } = [];

        [Parameter("bytes32", "receiptId", 2, false)]
        public byte[] ReceiptId { get; set; } = [];

        [Parameter("uint256", "price", 3, false)]
        public BigInteger Price { get; set; }

        [Parameter("uint256", "fee", 4, false)]
        public BigInteger Fee { get; set; }
    }

    [Event("EscrowRefunded")]
    private sealed class EscrowRefundedEvent : IEventDTO
    {
        [Parameter("bytes32", "requestId", 1, true)]
        public byte[] RequestId { get; set; } = [];
    }
}

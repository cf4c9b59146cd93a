using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Ledger;
using PoIP.Network.Addressing;
using PoIP.Network;
using PoIP.Economics.Reputation;
using PoIP.Economics.Selection;

namespace PoIP.Hosting.Client;

/// <summary>What a client needs.</summary>
public sealed class PoIPClientOptions
{
    /// <summary>The client's identity: signs requests, pays escrows.</summary>
    public required Ed25519KeyPair Key { get; init; }

    /// <summary>A started libp2p host (its key must be <see cref="Key"/>).</summary>
    public required Libp2pHost Host { get; init; }

    /// <summary>Known nodes, as multiaddrs ending in <c>/p2p/&lt;id&gt;</c> (a <see cref="StaticNodeDirectory"/>; ignored when <see cref="Directory"/> is set).</summary>
    public IReadOnlyList<Multiaddr> Nodes { get; init; } = [];

    /// <summary>Where the client looks up the nodes serving a model on each request (default: <see cref="Nodes"/>).</summary>
    public INodeDirectory? Directory { get; init; }

    /// <summary>Where the client records its own transaction record (its request and the receipt it accepted) after each answer; null records nothing.</summary>
    public ITransactionLedger? Ledger { get; init; }

    /// <summary>Escrow for every request.</summary>
    public required IStakeManager Stakes { get; init; }

    /// <summary>Validators to hand finished transactions to (may be empty).</summary>
    public IReadOnlyList<Multiaddr> Validators { get; init; } = [];

    /// <summary>
    /// Where to find validators of the request's model when <see cref="Validators"/> is empty (e.g. the DHT); null
    /// asks none. Looked up for each audit and each retry, so validators that appear later are used.
    /// </summary>
    public IValidatorDirectory? ValidatorDirectory { get; init; }

    /// <summary>Time one attempt may take before the client gives up on the node.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Most time an audit may take after the answer was returned (connect, submit, re-execution, reply);
    /// past it the audit is <see cref="ClientAuditStatus.Pending"/>. Default 2 minutes.
    /// </summary>
    public TimeSpan AuditTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How many times a pending audit (validator unreachable or past <see cref="AuditTimeout"/>) is handed to the validators again (0 to 20; default 5; see <see cref="ClientAnswer.FinalAudit"/>).</summary>
    public int AuditRetries { get; init; } = 5;

    /// <summary>Wait before the first retry of a pending audit, doubled for each further one and capped at 5 minutes (default 10 s).</summary>
    public TimeSpan AuditRetryDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Hedging (on by default): when no token has come from the running attempt(s) for the hedge delay,
    /// another node is asked as well (Polly hedging); the first to produce a token wins, the others are
    /// cancelled (stream reset: their nodes stop before a receipt exists, so their escrows are never settled,
    /// only refunded once abandoned). False: no hedging; failed attempts still move on to the next node.
    /// </summary>
    public bool Hedging { get; init; } = true;

    /// <summary>
    /// A fixed hedge delay. Null (default): adaptive, the <see cref="HedgeQuantile"/> of the times to first
    /// token this client measured on its last 128 answers, within [<see cref="MinHedgeDelay"/>,
    /// <see cref="MaxHedgeDelay"/>] (<see cref="MaxHedgeDelay"/> until 8 were measured).
    /// </summary>
    public TimeSpan? HedgeAfter { get; init; }

    /// <summary>Quantile of the measured times to first token the adaptive delay takes (0.5 to 1; default 0.95).</summary>
    public double HedgeQuantile { get; init; } = 0.95;

    /// <summary>Floor of the adaptive hedge delay (default 100 ms): below it hedging would mostly double the load.</summary>
    public TimeSpan MinHedgeDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Cap of the adaptive hedge delay, and the delay before enough times were measured (default 2 s).</summary>
    public TimeSpan MaxHedgeDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Most extra attempts hedging starts for one request (1 to 10; default 1).</summary>
    public int MaxHedgedAttempts { get; init; } = 1;

    /// <summary>Consecutive failures after which a node is skipped for <see cref="BreakDuration"/>.</summary>
    public int FailuresBeforeBreak { get; init; } = 2;

    /// <summary>How long a failing node is skipped.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How each attempt's node is picked (default <see cref="NodeSelectionPolicy.Competition"/>).</summary>
    public NodeSelectionPolicy Selection { get; init; } = NodeSelectionPolicy.Competition;

    /// <summary>Weights and stake floor of the competition (defaults when null; set <see cref="NodeSelectionOptions.MinimumStake"/> to the network's minimum).</summary>
    public NodeSelectionOptions? SelectionWeights { get; init; }

    /// <summary>Seed of the competition's sampling (default: derived from the client's peer id, so one client's choices are reproducible).</summary>
    public int? SelectionSeed { get; init; }

    /// <summary>The reputation book routing reads and the client feeds (a new one when null; pass a shared one to combine views).</summary>
    public ReputationBook? Reputation { get; init; }

    /// <summary>Clock for expiries and breakers.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>How long a node's stake read from <see cref="Stakes"/> is reused when choosing nodes (default 5 s; zero reads it on every choice).</summary>
    public TimeSpan StakeCacheDuration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A node this client sent nothing to for this long gets the next request, and a time to first token measured
    /// after this long replaces the node's old average instead of being blended into it (default 30 s; zero turns
    /// both off). The competition's power of two choices never picks the worst of the candidates, so without this
    /// a node measured slow once (cold, or in a burst) would stay unused however fast it has become.
    /// </summary>
    public TimeSpan ReexploreAfter { get; init; } = TimeSpan.FromSeconds(30);
}

using PoIP.Core.Money;
using PoIP.Economics.Parameters;
using PoIP.Hosting.Client;

namespace PoIP.Testing.LocalNetwork;

/// <summary>A small PoIP network on loopback: nodes (one may cheat), a validator and a client.</summary>
public sealed class LocalNetworkOptions
{
    /// <summary>The GGUF model every node serves.</summary>
    public required string ModelPath { get; init; }

    /// <summary>Folder for the ledger database and keys (created; deleted with the network when temporary).</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Number of inference nodes (2 to 16).</summary>
    public int Nodes { get; init; } = 3;

    /// <summary>How the last node cheats.</summary>
    public CheatKind Cheat { get; init; } = CheatKind.AlterOutput;

    /// <summary>When true, the first node dies (its host goes down) in the middle of its first answer.</summary>
    public bool CrashFirstNode { get; init; }

    /// <summary>How the client routes requests (default: the competition policy).</summary>
    public NodeSelectionPolicy Selection { get; init; } = NodeSelectionPolicy.Competition;

    /// <summary>Probability that the validator audits a receipt.</summary>
    public double AuditProbability { get; init; } = 0.5;

    /// <summary>Threads per engine.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Tokens generated per request.</summary>
    public int MaxTokens { get; init; } = 48;

    /// <summary>Price per output token.</summary>
    public TokenAmount PricePerToken { get; init; } = TokenAmount.ParseTokens("0.001");

    /// <summary>Stake each node bonds.</summary>
    public TokenAmount NodeStake { get; init; } = TokenAmount.FromTokens(200);

    /// <summary>Wraps node <c>i</c>'s engine (0-based), e.g. in a <see cref="SlowStartEngine"/> for a slow node; null: none.</summary>
    public Func<int, PoIP.Core.Engine.IInferenceEngine, PoIP.Core.Engine.IInferenceEngine>? WrapEngine { get; init; }

    /// <summary>The client's clock (latency, hedging, breakers); default the system clock.</summary>
    public TimeProvider? ClientTimeProvider { get; init; }

    /// <summary>The client's fixed <see cref="PoIPClientOptions.HedgeAfter"/>; null (default): no hedging (unlike the shipped client's adaptive default, so the harness stays reproducible).</summary>
    public TimeSpan? HedgeAfter { get; init; }

    /// <summary>The client's <see cref="PoIPClientOptions.SelectionSeed"/> (null: from its peer id).</summary>
    public int? SelectionSeed { get; init; }

    /// <summary>The parameters of the network's own ledger: the defaults with a one-minute dispute window and a minimum stake of 100.</summary>
    public static EconomicParameters DevParameters { get; } = EconomicParameters.Default with { DisputeWindow = TimeSpan.FromMinutes(1), MinimumStake = TokenAmount.FromTokens(100) };

    /// <summary>
    /// Where the money lives: null (default) for a new embedded SQLite ledger in <see cref="DataDirectory"/>
    /// with <see cref="DevParameters"/>; else a factory of another ledger (a development chain), which
    /// the network disposes.
    /// </summary>
    public Func<CancellationToken, Task<ILocalNetworkLedger>>? Ledger { get; init; }

    /// <summary>Returns the first problem, or null.</summary>
    public string? Validate() =>
        !File.Exists(ModelPath) ? $"model '{ModelPath}' not found."
        : Nodes is < 2 or > 16 ? "nodes must be 2 to 16."
        : AuditProbability is < 0 or > 1 || double.IsNaN(AuditProbability) ? "audit probability must be in [0, 1]."
        : MaxTokens is < 1 or > 512 ? "max tokens must be 1 to 512."
        : null;
}

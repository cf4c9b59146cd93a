namespace PoIP.Hosting.DependencyInjection;

/// <summary>The client role: which nodes and validators it knows. Validated at start.</summary>
public sealed class PoIPClientServiceOptions
{
    /// <summary>Nodes, as multiaddrs ending in <c>/p2p/&lt;peer id&gt;</c> (at least one).</summary>
    public IList<string> Nodes { get; } = [];

    /// <summary>Validators to hand finished transactions to (may be empty), as <c>/p2p</c> multiaddrs.</summary>
    public IList<string> Validators { get; } = [];

    /// <summary>Time one attempt may take before the client tries another node. Default 30 s.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How each attempt's node is picked. Default <see cref="Client.NodeSelectionPolicy.Competition"/>.</summary>
    public Client.NodeSelectionPolicy Selection { get; set; } = Client.NodeSelectionPolicy.Competition;

    /// <summary>Hedge a request whose attempt produced no token for this long (<see cref="Client.PoIPClientOptions.HedgeAfter"/>). Default null: no hedging.</summary>
    public TimeSpan? HedgeAfter { get; set; }
}

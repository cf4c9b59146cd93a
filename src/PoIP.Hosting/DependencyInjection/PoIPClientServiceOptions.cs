namespace PoIP.Hosting.DependencyInjection;

/// <summary>The client role: which nodes and validators it knows. Validated at start.</summary>
public sealed class PoIPClientServiceOptions
{
    /// <summary>Nodes, as multiaddrs ending in <c>/p2p/&lt;peer id&gt;</c> (at least one).</summary>
    public IList<string> Nodes { get; } = [];

    /// <summary>Validators to hand finished transactions to (may be empty), as <c>/p2p</c> multiaddrs.</summary>
    public IList<string> Validators { get; } = [];

    /// <summary>
    /// With no <see cref="Validators"/> and the DHT on, hand each answer to a validator of its model found in the DHT
    /// (default true); false hands answers to none (audits then come only from validators drawing the DHT's records).
    /// </summary>
    public bool FindValidators { get; set; } = true;

    /// <summary>Time one attempt may take before the client tries another node. Default 30 s.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How each attempt's node is picked. Default <see cref="Client.NodeSelectionPolicy.Competition"/>.</summary>
    public Client.NodeSelectionPolicy Selection { get; set; } = Client.NodeSelectionPolicy.Competition;

    /// <summary>Hedge a request whose attempt produced no token for the hedge delay (<see cref="Client.PoIPClientOptions.Hedging"/>). Default true.</summary>
    public bool Hedging { get; set; } = true;

    /// <summary>A fixed hedge delay (<see cref="Client.PoIPClientOptions.HedgeAfter"/>). Default null: adaptive, from the measured times to first token.</summary>
    public TimeSpan? HedgeAfter { get; set; }

    /// <summary>Quantile of the measured times to first token the adaptive delay takes (<see cref="Client.PoIPClientOptions.HedgeQuantile"/>). Default 0.95.</summary>
    public double HedgeQuantile { get; set; } = 0.95;

    /// <summary>Floor of the adaptive hedge delay (<see cref="Client.PoIPClientOptions.MinHedgeDelay"/>). Default 100 ms.</summary>
    public TimeSpan MinHedgeDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Cap of the adaptive hedge delay (<see cref="Client.PoIPClientOptions.MaxHedgeDelay"/>). Default 2 s.</summary>
    public TimeSpan MaxHedgeDelay { get; set; } = TimeSpan.FromSeconds(2);
}

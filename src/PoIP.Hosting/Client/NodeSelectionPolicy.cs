namespace PoIP.Hosting.Client;

/// <summary>How a <see cref="PoIPClient"/> picks the node for each attempt.</summary>
public enum NodeSelectionPolicy
{
    /// <summary>
    /// Competition (default): every node is tried once first (the client needs evidence about it);
    /// after that <see cref="Economics.Selection.NodeSelector"/> samples two untried-this-request
    /// candidates and keeps the better by reputation, price, latency and stake (power of two choices).
    /// A node with proven fraud or lost stake then practically never wins.
    /// </summary>
    Competition = 0,

    /// <summary>Requests rotate over the nodes in the order given; retries go to the next one. Predictable, for tests and diagnostics.</summary>
    RoundRobin = 1,
}

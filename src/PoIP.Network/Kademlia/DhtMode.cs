namespace PoIP.Network.Kademlia;

/// <summary>Whether a DHT peer serves queries.</summary>
public enum DhtMode
{
    /// <summary>Answers queries, stores records, lists the protocol in identify, enters routing tables.</summary>
    Server,

    /// <summary>Only sends queries; never enters routing tables.</summary>
    Client,
}

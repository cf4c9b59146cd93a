namespace PoIP.Network.Kademlia;

/// <summary>The outcome of <see cref="IKademliaDht.PutValueAsync"/>.</summary>
/// <param name="Confirmed">Peers that stored the record and echoed it back unchanged.</param>
/// <param name="Asked">Peers it was sent to (the closest found, at most k).</param>
/// <param name="StoredLocally">True when this peer stored it too (server mode).</param>
public readonly record struct DhtPutResult(int Confirmed, int Asked, bool StoredLocally);

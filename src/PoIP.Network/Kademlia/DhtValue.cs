namespace PoIP.Network.Kademlia;

/// <summary>One distinct valid value found for a key.</summary>
/// <param name="Value">The record's value.</param>
/// <param name="From">The peers that returned it (this peer included when it held it).</param>
public sealed record DhtValue(ReadOnlyMemory<byte> Value, IReadOnlyList<PoIP.Core.Identity.PeerId> From);

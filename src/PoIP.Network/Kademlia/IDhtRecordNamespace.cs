namespace PoIP.Network.Kademlia;

/// <summary>
/// The rules for value records under one key namespace (keys <c>/NAME/...</c>), like js-libp2p's validator
/// and selector pair. A record under a namespace nobody registered is refused.
/// </summary>
public interface IDhtRecordNamespace
{
    /// <summary>The namespace, without slashes (keys <c>/poip/...</c> → <c>poip</c>).</summary>
    string Name { get; }

    /// <summary>Checks a record before it is stored, returned or forwarded (signature, key fields against the payload, expiry, size).</summary>
    DhtRecordVerdict Validate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, DateTimeOffset now);

    /// <summary>The index of the best of several valid values for one key.</summary>
    int SelectBest(ReadOnlySpan<byte> key, IReadOnlyList<ReadOnlyMemory<byte>> values);

    /// <summary>
    /// Combines a stored valid value with an incoming valid one for the same key, or returns null to keep
    /// <see cref="SelectBest"/>'s choice. A namespace whose values are sets (evidence that must never be erased)
    /// returns their union, so a put can only add.
    /// </summary>
    byte[]? Merge(ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored, ReadOnlySpan<byte> incoming);
}

using PoIP.Core.Ledger;
using PoIP.Network.Kademlia;

namespace PoIP.Network.Transactions;

/// <summary>Sets up <see cref="KademliaOptions"/> for a DHT that carries PoIP's records.</summary>
public static class PoIPKademliaOptions
{
    /// <summary>
    /// Registers the <c>poip</c> namespace (<see cref="PoIPRecordNamespace"/>) and raises the value and message
    /// limits so that a full transaction record set (<see cref="TransactionRecordSet.MaxEncodedLength"/>, 1 MiB) fits:
    /// values up to that size, messages up to twice it. Returns <paramref name="options"/>.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public static KademliaOptions UsePoIPRecords(this KademliaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.MaxValueSize = Math.Max(options.MaxValueSize, TransactionRecordSet.MaxEncodedLength);
        options.MaxMessageSize = Math.Max(options.MaxMessageSize, 2 * TransactionRecordSet.MaxEncodedLength);
        if (!options.Namespaces.Any(n => n.Name == "poip"))
        {
            options.Namespaces.Add(new PoIPRecordNamespace());
        }

        return options;
    }
}

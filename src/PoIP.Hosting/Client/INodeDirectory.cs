using PoIP.Core.Hashing;

namespace PoIP.Hosting.Client;

/// <summary>Where a client learns which nodes serve a model (fixed addresses, the DHT, ...).</summary>
public interface INodeDirectory
{
    /// <summary>The nodes currently known to serve <paramref name="model"/> (may be empty; never null).</summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    Task<IReadOnlyList<NodeListing>> FindNodesAsync(ModelId model, CancellationToken cancellationToken = default);
}

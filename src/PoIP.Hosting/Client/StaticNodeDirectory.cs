using PoIP.Core.Hashing;
using PoIP.Network.Addressing;

namespace PoIP.Hosting.Client;

/// <summary>
/// A fixed list of node addresses (the <c>--peer</c> flags): every node is assumed to serve every
/// model; a node that does not refuses the request and the client moves on.
/// </summary>
public sealed class StaticNodeDirectory : INodeDirectory
{
    private readonly IReadOnlyList<NodeListing> _listings;

    /// <summary>Creates the directory.</summary>
    /// <exception cref="ArgumentException">An address lacks its <c>/p2p/&lt;id&gt;</c> component.</exception>
    public StaticNodeDirectory(IEnumerable<Multiaddr> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var listings = new List<NodeListing>();
        foreach (var node in nodes)
        {
            if (node.PeerId is null)
            {
                throw new ArgumentException($"'{node}' has no /p2p/<id> component.", nameof(nodes));
            }

            listings.Add(new NodeListing(node));
        }

        _listings = listings;
    }

    /// <summary>The addresses, in the order given.</summary>
    public IReadOnlyList<Multiaddr> Nodes => [.. _listings.Select(l => l.Address)];

    /// <inheritdoc />
    public Task<IReadOnlyList<NodeListing>> FindNodesAsync(ModelId model, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_listings);
    }
}

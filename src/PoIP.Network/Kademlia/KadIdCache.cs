using System.Collections.Concurrent;
using PoIP.Core.Identity;

namespace PoIP.Network.Kademlia;

/// <summary>
/// The key-space points of peer ids already seen, so that the peers of every reply (up to 20 each) are not hashed again:
/// a lookup meets the same few hundred peers over and over. Bounded: emptied when it reaches <see cref="Capacity"/>.
/// </summary>
internal static class KadIdCache
{
    public const int Capacity = 65_536;

    private static readonly ConcurrentDictionary<PeerId, KadId> Points = new();
    private static int _count;

    /// <summary>The SHA-256 point of <paramref name="peer"/>'s id.</summary>
    public static KadId Of(PeerId peer)
    {
        if (Points.TryGetValue(peer, out var id))
        {
            return id;
        }

        id = KadId.FromKey(peer.Bytes);
        if (Interlocked.Increment(ref _count) > Capacity)
        {
            Points.Clear();
            Interlocked.Exchange(ref _count, 0);
        }

        Points.TryAdd(peer, id);
        return id;
    }
}

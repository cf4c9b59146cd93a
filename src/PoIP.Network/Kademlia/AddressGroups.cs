using PoIP.Network.Addressing;

namespace PoIP.Network.Kademlia;

/// <summary>
/// The address group of a peer for routing-table diversity limits, as go-libp2p-kbucket's peer-diversity
/// filter models it: the /16 of a public IPv4 address, the /32 of a public IPv6 address. Peers with only
/// loopback, private or link-local addresses have no group (no limit applies: they cannot be spread over
/// many public networks anyway, and tests and private deployments live there).
/// </summary>
internal static class AddressGroups
{
    public static string? GroupOf(IReadOnlyList<Multiaddr> addresses)
    {
        foreach (var address in addresses)
        {
            foreach (var c in address.Components)
            {
                var v = c.Value;
                if (c.Protocol == MultiaddrProtocol.Ip4 && v.Length == 4 && IsPublic4(v))
                {
                    return $"ip4/{v[0]}.{v[1]}";
                }

                if (c.Protocol == MultiaddrProtocol.Ip6 && v.Length == 16 && IsPublic6(v))
                {
                    return $"ip6/{v[0]:x2}{v[1]:x2}:{v[2]:x2}{v[3]:x2}";
                }
            }
        }

        return null;
    }

    private static bool IsPublic4(ReadOnlySpan<byte> v) =>
        !(v[0] == 10 || v[0] == 127 || v[0] == 0
          || (v[0] == 172 && (v[1] & 0xF0) == 16)
          || (v[0] == 192 && v[1] == 168)
          || (v[0] == 169 && v[1] == 254)
          || (v[0] == 100 && (v[1] & 0xC0) == 64));

    private static bool IsPublic6(ReadOnlySpan<byte> v) =>
        !((v[0] & 0xFE) == 0xFC // unique local
          || (v[0] == 0xFE && (v[1] & 0xC0) == 0x80) // link local
          || v[..15].IndexOfAnyExcept((byte)0) < 0); // :: and ::1
}

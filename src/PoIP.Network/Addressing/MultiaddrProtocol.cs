namespace PoIP.Network.Addressing;

/// <summary>The multiaddr protocols this library reads and writes (codes from the multiformats table).</summary>
public enum MultiaddrProtocol
{
    /// <summary><c>/ip4/a.b.c.d</c> (code 4, 4 bytes).</summary>
    Ip4 = 4,

    /// <summary><c>/tcp/port</c> (code 6, 2 bytes big-endian).</summary>
    Tcp = 6,

    /// <summary><c>/ip6/addr</c> (code 41, 16 bytes).</summary>
    Ip6 = 41,

    /// <summary><c>/dns4/name</c> (code 54, length-prefixed UTF-8).</summary>
    Dns4 = 54,

    /// <summary><c>/dns6/name</c> (code 55, length-prefixed UTF-8).</summary>
    Dns6 = 55,

    /// <summary><c>/p2p/peer-id</c> (code 421, length-prefixed multihash; text base58btc).</summary>
    P2p = 421,
}

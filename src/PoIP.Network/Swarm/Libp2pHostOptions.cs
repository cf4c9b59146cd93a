using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Yamux;

namespace PoIP.Network;

/// <summary>Options of a <see cref="Libp2pHost"/>; <see cref="Validate"/> runs when the host is created.</summary>
public sealed class Libp2pHostOptions
{
    /// <summary>The identity key (required). The host does not dispose it.</summary>
    public Ed25519KeyPair? Key { get; set; }

    /// <summary>Addresses to listen on (<c>/ip4/0.0.0.0/tcp/0</c>, <c>/ip6/::1/tcp/4001</c>...). Empty: dial only.</summary>
    public IList<Multiaddr> ListenAddresses { get; } = [];

    /// <summary>Muxer limits.</summary>
    public YamuxOptions Yamux { get; set; } = new();

    /// <summary>Limit on establishing a TCP connection. Default 10 s.</summary>
    public TimeSpan DialTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Limit on the whole upgrade (multistream, Noise, muxer selection). Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Limit on negotiating the protocol of an inbound stream. Default 10 s.</summary>
    public TimeSpan StreamNegotiationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A connection without streams for this long is closed; zero disables. Default 5 min.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Most connections at once (both directions). Default 256.</summary>
    public int MaxConnections { get; set; } = 256;

    /// <summary>Most connections with one peer. Default 4.</summary>
    public int MaxConnectionsPerPeer { get; set; } = 4;

    /// <summary>Most inbound handshakes in progress at once (more are dropped). Default 64.</summary>
    public int MaxPendingInbound { get; set; } = 64;

    /// <summary>Offer <c>/yamux/1.0.0</c> in the Noise payload so multistream after Noise is skipped when both sides do. Default true.</summary>
    public bool EarlyMuxerNegotiation { get; set; } = true;

    /// <summary>Serve <c>/perf/1.0.0</c>. Default true.</summary>
    public bool EnablePerf { get; set; } = true;

    /// <summary>Run identify on every new connection. Default true.</summary>
    public bool IdentifyOnConnect { get; set; } = true;

    /// <summary>The identify <c>agentVersion</c>.</summary>
    public string AgentVersion { get; set; } = "poip/0.1.0";

    /// <summary>The identify <c>protocolVersion</c>.</summary>
    public string ProtocolVersion { get; set; } = "ipfs/0.1.0";

    /// <summary>Clock for timeouts and measurements (tests inject a fake one). Default system.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws when an option is missing or out of range.</summary>
    /// <exception cref="ArgumentException">An option is missing or out of range.</exception>
    public void Validate()
    {
        if (Key is null)
        {
            throw new ArgumentException("Libp2pHostOptions.Key is required.", nameof(Key));
        }

        ArgumentNullException.ThrowIfNull(Yamux);
        Yamux.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(DialTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HandshakeTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(StreamNegotiationTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(IdleTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnectionsPerPeer, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingInbound, 1);
        foreach (var address in ListenAddresses)
        {
            if (!address.TryGetTcpTarget(out _, out _, out _))
            {
                throw new ArgumentException($"Cannot listen on {address}: only /ip4|ip6/.../tcp/... addresses.", nameof(ListenAddresses));
            }
        }
    }
}

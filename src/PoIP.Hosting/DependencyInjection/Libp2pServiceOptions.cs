namespace PoIP.Hosting.DependencyInjection;

/// <summary>The libp2p host of a PoIP role (TCP, Noise, Yamux, identify, ping). Validated at start.</summary>
public sealed class Libp2pServiceOptions
{
    /// <summary>Multiaddrs to listen on (<c>/ip4|ip6/.../tcp/port</c>). Default: <c>/ip4/127.0.0.1/tcp/0</c> when empty.</summary>
    public IList<string> ListenAddresses { get; } = [];

    /// <summary>Most open connections (1 to 65536). Default 256.</summary>
    public int MaxConnections { get; set; } = 256;

    /// <summary>Time a dial may take. Default 10 s.</summary>
    public TimeSpan DialTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using PoIP.Network;
using PoIP.Network.Kademlia;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>How the host creates and starts its DHT once libp2p listens (default: <see cref="KademliaDht"/>).</summary>
internal sealed class DhtFactory(Func<Libp2pHost, KademliaOptions, IServiceProvider, CancellationToken, ValueTask<IKademliaDht>> create)
{
    public Func<Libp2pHost, KademliaOptions, IServiceProvider, CancellationToken, ValueTask<IKademliaDht>> Create { get; } = create;

    public static async ValueTask<IKademliaDht> CreateKademliaAsync(Libp2pHost host, KademliaOptions options, IServiceProvider services, CancellationToken cancellationToken)
    {
        var dht = KademliaDht.Create(host, options, services.GetService<TimeProvider>(), services.GetService<ILoggerFactory>(), services.GetService<IMeterFactory>());
        try
        {
            await dht.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await dht.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return dht;
    }
}

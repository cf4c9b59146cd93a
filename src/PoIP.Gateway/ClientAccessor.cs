using PoIP.Hosting.Client;

namespace PoIP.Gateway;

/// <summary>Resolves the <see cref="PoIPClient"/> on first use (the PoIP host creates it when it starts).</summary>
internal sealed class ClientAccessor(IServiceProvider services, Func<IServiceProvider, PoIPClient> factory)
{
    private PoIPClient? _client;

    public PoIPClient Get() => _client ??= factory(services);
}

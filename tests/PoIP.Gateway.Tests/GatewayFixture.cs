using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PoIP.Hosting.Client;
using PoIP.Testing.LocalNetwork;
using PoIP.TestUtils;

namespace PoIP.Gateway.Tests;

/// <summary>
/// One real 3-node loopback network on stories260K (llama.cpp, libp2p, validator auditing every
/// answer, SQLite ledger) behind the gateway on Kestrel, 127.0.0.1 port 0, shared by the tests of
/// the collection (they run one after another).
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    /// <summary>Most tokens a node generates (and the gateway accepts).</summary>
    public const int NodeMaxTokens = 400;

    private readonly string _data = Directory.CreateTempSubdirectory("poip-gateway-").FullName;
    private readonly List<WebApplication> _apps = [];

    public LocalNetwork Network { get; private set; } = null!;

    public GatewayModel Model { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public static string Stories => RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found beside the checkout (../shared/models); set POIP_STORIES260K.");

    public async Task InitializeAsync()
    {
        Network = await LocalNetwork.StartAsync(new LocalNetworkOptions
        {
            ModelPath = Stories,
            DataDirectory = _data,
            Nodes = 3,
            Cheat = CheatKind.None,
            AuditProbability = 1.0,
            MaxTokens = NodeMaxTokens,
        });
        Model = await GatewayModel.FromGgufAsync(Stories);
        BaseAddress = await StartGatewayAsync(Network.Client, _ => { });
    }

    /// <summary>Starts another gateway (own options) over <paramref name="client"/>; returns its base address.</summary>
    public async Task<Uri> StartGatewayAsync(PoIPClient client, Action<PoIPGatewayOptions> configure)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Services.AddPoIPGateway(
            o =>
            {
                o.Models.Add(Model);
                o.DefaultMaxTokens = 16;
                o.MaxTokensLimit = NodeMaxTokens;
                o.MaxMessages = 8;
                o.MaxRequestBodyBytes = 64 * 1024;
                configure(o);
            },
            _ => client);
        var app = builder.Build();
        app.MapPoIPGateway();
        await app.StartAsync();
        _apps.Add(app);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.TrimEnd('/') + "/");
    }

    public async Task DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        if (Network is not null)
        {
            await Network.DisposeAsync();
        }

        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // the OS cleans the temp folder
        }
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayNetworkGroup : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway network";
}

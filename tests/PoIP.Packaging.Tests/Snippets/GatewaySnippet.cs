using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using PoIP.Gateway;
using PoIP.Hosting.DependencyInjection;

namespace PoIP.Packaging.Tests.Snippets;

/// <summary>The example of src/PoIP.Gateway/README.md.</summary>
internal static class GatewaySnippet
{
    public static async Task<WebApplication> BuildAsync(string modelPath, string dataDirectory, string nodeAddress)
    {
        // begin-snippet: gateway
        // An OpenAI-compatible API (chat and text completions, streaming, receipts) in front of a PoIP client.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:8080");           // loopback unless you say otherwise
        builder.Services.AddPoIP(o => o.KeyFile = Path.Combine(dataDirectory, "gateway.key"))
            .AddEmbeddedEconomics(o => o.DatabasePath = Path.Combine(dataDirectory, "ledger.db"))
            .AddClient(o => o.Nodes.Add(nodeAddress));                // /ip4/…/tcp/…/p2p/12D3KooW…
        var model = await GatewayModel.FromGgufAsync(modelPath);      // name, ModelId, chat template
        builder.Services.AddPoIPGateway(o => o.Models.Add(model));
        var app = builder.Build();
        app.MapPoIPGateway();                                         // /v1/chat/completions, /v1/completions, /v1/models, …
        // end-snippet
        return app;
    }
}

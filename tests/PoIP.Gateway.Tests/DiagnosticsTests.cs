using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Hosting.Client;
using PoIP.Testing.LocalNetwork;

namespace PoIP.Gateway.Tests;

/// <summary>
/// Diagnostics over the network: known-answer challenges sent as ordinary requests. A real 3-node
/// network whose last node alters its output: the honest nodes pass, the cheater fails, loses reputation
/// and is routed around; the gateway's <c>/v1/nodes</c> shows it.
/// </summary>
public sealed class DiagnosticsTests
{
    [Fact]
    public async Task DiagnoseAsync_HonestAndCheatingNodes_HonestPassCheaterFailsAndIsRoutedAround()
    {
        string data = Directory.CreateTempSubdirectory("poip-diagnose-").FullName;
        try
        {
            await using var network = await LocalNetwork.StartAsync(new LocalNetworkOptions
            {
                ModelPath = GatewayFixture.Stories,
                DataDirectory = data,
                Nodes = 3,
                Cheat = CheatKind.AlterOutput,
                AuditProbability = 0, // the challenge alone must catch it
                MaxTokens = 64,
                Selection = NodeSelectionPolicy.RoundRobin,
            });
            var client = network.Client;
            var price = TokenAmount.ParseTokens("0.001");
            var cheater = network.Nodes[2].Id;

            var honest = await client.DiagnoseAsync(network.NodeAddresses[0], price);
            var cheat = await client.DiagnoseAsync(network.NodeAddresses[2], price);

            Assert.True(honest.KnownAnswerPassed, honest.Detail);
            Assert.True(honest.Challenges >= 3, honest.Detail);
            Assert.NotNull(honest.Engine);
            Assert.True(honest.TokensPerSecond > 0);
            Assert.NotNull(honest.TimeToFirstToken);
            Assert.False(cheat.KnownAnswerPassed, cheat.Detail);
            Assert.Contains("tokens differ from position 3", cheat.Detail, StringComparison.Ordinal);
            Assert.True(client.Reputation.GetScore(cheater) < client.Reputation.GetScore(network.Nodes[0].Id));
            Assert.Same(cheat, client.Diagnoses[cheater]);

            for (int i = 0; i < 6; i++) // round robin would give the cheater two of these
            {
                var answer = await client.AskAsync("Once upon a time", new AskOptions(network.Model, new SamplingParameters(), (ulong)i, 4, price.Multiply(4)));
                Assert.NotEqual(cheater, answer.Node);
            }

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
            builder.Services.AddPoIPGateway(o => o.Models.Add(new GatewayModel("stories260K", network.Model, null)), _ => client);
            await using var app = builder.Build();
            app.MapPoIPGateway();
            await app.StartAsync();
            using var http = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/") };
            using var nodes = JsonDocument.Parse(await http.GetStringAsync("v1/nodes"));
            var byId = nodes.RootElement.GetProperty("data").EnumerateArray().ToDictionary(n => n.GetProperty("node_id").GetString()!);
            Assert.False(byId[cheater.ToString()].GetProperty("known_answer_passed").GetBoolean());
            Assert.True(byId[cheater.ToString()].GetProperty("routed_around").GetBoolean());
            Assert.Contains("tokens differ", byId[cheater.ToString()].GetProperty("diagnosis").GetProperty("detail").GetString(), StringComparison.Ordinal);
            var good = byId[network.Nodes[0].Id.ToString()];
            Assert.True(good.GetProperty("known_answer_passed").GetBoolean());
            Assert.False(good.GetProperty("routed_around").GetBoolean());
            Assert.True(good.GetProperty("tokens_per_second").GetDouble() > 0);
            Assert.Equal(JsonValueKind.Null, byId[network.Nodes[1].Id.ToString()].GetProperty("diagnosis").ValueKind); // never probed
            await app.StopAsync();
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}

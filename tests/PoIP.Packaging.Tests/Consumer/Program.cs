// A program that uses PoIP from its NuGet packages only (ConsumerFromPackagesTests packs them, restores
// this project from a folder feed and runs it): a node and a client in one process, a real round trip.
// usage: PoIP.Consumer MODEL.gguf DATA_DIRECTORY
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PoIP.Core.Hashing;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Hosting.Client;
using PoIP.Hosting.DependencyInjection;

string model = args[0];
string data = args[1];

// begin-snippet: hosting
// A node: llama.cpp serving the model on /poip/infer/1.0.0 over libp2p, staked on the shared ledger.
string ledger = Path.Combine(data, "ledger.db");
var nodeBuilder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
nodeBuilder.Services.AddPoIP(o => o.KeyFile = Path.Combine(data, "node.key"))
    .AddEmbeddedEconomics(o => o.DatabasePath = ledger)
    .AddLlamaEngine(o => { o.ModelPath = model; o.Threads = 1; o.ContextSize = 512; o.MaxPromptTokens = 128; o.MaxOutputTokens = 64; })
    .AddDevFunding(o => o.Stake = TokenAmount.FromTokens(150))   // local development: mint and stake
    .AddNode(o => o.PricePerToken = TokenAmount.ParseTokens("0.001"));
using var node = nodeBuilder.Build();
await node.StartAsync();                                        // known-answer test, stake check, then listens
var nodeRuntime = node.Services.GetRequiredService<PoIPRuntime>();

// A client: escrows the price cap, asks the node, checks the node's signed receipt.
var clientBuilder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
clientBuilder.Services.AddPoIP(o => o.KeyFile = Path.Combine(data, "client.key"))
    .AddEmbeddedEconomics(o => o.DatabasePath = ledger)
    .AddDevFunding(o => o.Balance = TokenAmount.FromTokens(10))
    .AddClient(o => o.Nodes.Add(nodeRuntime.ListenAddresses[0].ToString()));
using var client = clientBuilder.Build();
await client.StartAsync();
ClientAnswer answer = await client.Services.GetRequiredService<PoIPClient>().AskAsync(
    "Once upon a time",
    new AskOptions(await ModelId.FromFileAsync(model), new SamplingParameters(), Seed: 7, MaxTokens: 24, PriceCap: TokenAmount.ParseTokens("0.024")));
Console.WriteLine(answer.Text);
// end-snippet

Console.WriteLine($"node {nodeRuntime.PeerId} receipt-signer {answer.Receipt.Signer} tokens {answer.OutputTokens.Count}");
await client.StopAsync();
await node.StopAsync();

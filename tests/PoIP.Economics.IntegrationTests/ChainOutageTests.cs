using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Economics.Evm;
using PoIP.Hosting.Client;
using PoIP.Hosting.DependencyInjection;
using PoIP.Testing.LocalNetwork;
using PoIP.TestUtils;
using Xunit;

namespace PoIP.Economics.IntegrationTests;

/// <summary>
/// A node whose chain RPC goes down, then hangs, then comes back (a proxy in front of Anvil): it
/// keeps serving on its last stake answer, its payment claims stay queued on disk, no call waits
/// past the 5 s call timeout, and every claim settles on chain once the RPC answers again.
/// </summary>
public sealed class ChainOutageTests(AnvilChain chain) : IClassFixture<AnvilChain>, IDisposable
{
    private static readonly TimeSpan Window = LocalNetworkOptions.DevParameters.DisputeWindow;
    private readonly string _directory = Directory.CreateTempSubdirectory("poip-evm-outage-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Node_ChainDownThenHung_KeepsServingAndQueuesClaimsDurably_SettlesAllWhenBack()
    {
        using var deployed = await chain.DeployAsync(LocalNetworkOptions.DevParameters);
        await using var proxy = new ChainProxy(chain.RpcUrl);
        string stories = RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found beside the checkout (../shared/models); set POIP_STORIES260K.");
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var logs = new LineCapture();
        using var node = Build("node", deployed.ContractAddress, proxy.Url, services =>
        {
            services.AddSingleton<TimeProvider>(clock);
            services.AddLogging(b => b.AddProvider(logs));
        }, poip => poip.AddLlamaEngine(o =>
        {
            o.ModelPath = stories;
            o.Threads = 1;
            o.ContextSize = 512;
            o.MaxPromptTokens = 128;
            o.MaxOutputTokens = 32;
        }).AddDevFunding(o => o.Stake = TokenAmount.FromTokens(200)).AddNode(o => o.MaxOutputTokens = 16));
        await node.StartAsync();
        var runtime = node.Services.GetRequiredService<PoIPRuntime>();
        using var client = Build("client", deployed.ContractAddress, chain.RpcUrl, _ => { }, poip => poip.AddDevFunding(o => o.Balance = TokenAmount.FromTokens(10)).AddClient(o => o.Nodes.Add(runtime.ListenAddresses[0].ToString())));
        await client.StartAsync();
        var ask = new AskOptions(await ModelId.FromFileAsync(stories), new SamplingParameters(), 3, 8, TokenAmount.ParseTokens("0.008"));
        var asker = client.Services.GetRequiredService<PoIPClient>();
        using var reader = await EvmStakeManager.ConnectAsync(new EvmStakeManagerOptions { RpcUrl = chain.RpcUrl, ContractAddress = deployed.ContractAddress, ReceiptPollInterval = TimeSpan.FromMilliseconds(2) });
        var before = await reader.GetBalanceAsync(runtime.PeerId!.Value);
        string claims = Path.Combine(_directory, "node.payment-claims");

        var first = await AskAsync(runtime, asker, "Once upon a time", ask);
        Assert.Single(Directory.GetFiles(claims, "*.claim"));

        // Down: the claim's first attempt fails at once and is kept.
        proxy.Mode = ProxyMode.Refuse;
        await chain.AdvanceTimeAsync(Window + TimeSpan.FromSeconds(2));
        var failed = logs.WaitFor("failed, will retry");
        clock.Advance(Window + TimeSpan.FromSeconds(2));
        await failed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(EscrowState.Open, (await reader.GetEscrowAsync(first.Receipt.Message.RequestId))!.State);
        Assert.Single(Directory.GetFiles(claims, "*.claim"));

        // Still serving, down and then hung (each stake check gives up after the 5 s call timeout).
        var second = await AskAsync(runtime, asker, "The cat sat on the mat and", ask);
        proxy.Mode = ProxyMode.BlackHole;
        var third = await AskAsync(runtime, asker, "Tom had a red ball. One day,", ask);
        Assert.Equal(8, second.OutputTokens.Count);
        Assert.Equal(8, third.OutputTokens.Count);
        Assert.Contains(logs.Lines, l => l.Contains("serving on the last answer", StringComparison.Ordinal));
        Assert.Equal(3, Directory.GetFiles(claims, "*.claim").Length);
        Assert.Equal(0, runtime.PaymentsClaimed);

        // Back: every queued claim settles on chain.
        proxy.Mode = ProxyMode.Forward;
        var paid = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int settled = 0;
        runtime.PaymentClaimed += (_, applied) =>
        {
            if (applied && Interlocked.Increment(ref settled) == 3)
            {
                paid.TrySetResult();
            }
        };
        await chain.AdvanceTimeAsync(Window + TimeSpan.FromSeconds(2));
        clock.Advance(Window + TimeSpan.FromSeconds(10)); // past the second and third windows and the first claim's backoff
        for (int round = 0; round < 12 && !paid.Task.IsCompleted; round++) // a retry that met a transient fault waits on the node's clock: move it on (bounded)
        {
            await Task.WhenAny(paid.Task, Task.Delay(TimeSpan.FromSeconds(5)));
            clock.Advance(TimeSpan.FromMinutes(5));
        }

        Assert.True(paid.Task.IsCompleted, "not all claims settled; claim log: " + string.Join(" | ", logs.Lines.Where(l => l.Contains("claim", StringComparison.OrdinalIgnoreCase))));

        var earned = TokenAmount.Zero;
        foreach (var answer in new[] { first, second, third })
        {
            Assert.Equal(EscrowState.Settled, (await reader.GetEscrowAsync(answer.Receipt.Message.RequestId))!.State);
            var price = answer.Receipt.Message.Price;
            earned += price - new TokenAmount(price.BaseUnits * LocalNetworkOptions.DevParameters.ProtocolFeeBps / 10_000);
        }

        Assert.Equal(before + earned, await reader.GetBalanceAsync(runtime.PeerId.Value));
        Assert.Empty(Directory.GetFiles(claims, "*.claim"));
        var totals = await reader.GetTotalsAsync();
        Assert.True(totals.IsConserved);
        Assert.Equal(totals.Supply, await reader.GetContractBalanceAsync());
        await client.StopAsync();
        await node.StopAsync();
    }

    /// <summary>Asks, and waits until the node has handled the request (its claim is stored by then).</summary>
    private static async Task<ClientAnswer> AskAsync(PoIPRuntime node, PoIPClient client, string prompt, AskOptions ask)
    {
        var handled = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnHandled(object? sender, string? detail) => handled.TrySetResult(detail);
        node.RequestHandled += OnHandled;
        try
        {
            var answer = await client.AskAsync(prompt, ask).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Null(await handled.Task.WaitAsync(TimeSpan.FromSeconds(30))); // served, no refusal
            return answer;
        }
        finally
        {
            node.RequestHandled -= OnHandled;
        }
    }

    private IHost Build(string name, string contract, Uri rpc, Action<IServiceCollection> services, Action<PoIPBuilder> compose)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        services(builder.Services);
        var poip = builder.Services.AddPoIP(o => o.KeyFile = Path.Combine(_directory, name + ".key"))
            .AddEvmEconomics(o =>
            {
                o.RpcUrl = rpc.ToString();
                o.ContractAddress = contract;
                o.AccountPrivateKey = EvmAccounts.NewPrivateKey();
                o.ReceiptPollInterval = TimeSpan.FromMilliseconds(2);
                o.CallTimeout = TimeSpan.FromSeconds(5);
                o.DevChain = true;
            });
        compose(poip);
        return builder.Build();
    }
}

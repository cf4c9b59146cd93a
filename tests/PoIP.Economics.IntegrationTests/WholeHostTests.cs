using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Economics.Evm;
using PoIP.Hosting.Client;
using PoIP.Hosting.DependencyInjection;
using PoIP.Testing.LocalNetwork;
using PoIP.TestUtils;
using Xunit;

namespace PoIP.Economics.IntegrationTests;

/// <summary>
/// Whole hosts composed with <c>AddEvmEconomics</c> on Anvil: two nodes (one cheating) and a
/// validator running real llama.cpp on stories260K over libp2p, and a client; every party with its
/// own chain account bound to its peer id, found by the others from the chain alone.
/// </summary>
public sealed class WholeHostTests(AnvilChain chain) : IClassFixture<AnvilChain>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("poip-evm-hosts-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Hosts_OnAnvil_CheaterSlashedOnChainAndHonestNodePaidAfterTheWindow_Conserved()
    {
        using var deployed = await chain.DeployAsync(LocalNetworkOptions.DevParameters);
        string stories = RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found beside the checkout (../shared/models); set POIP_STORIES260K.");
        var nodeClock = new FakeTimeProvider(TimeProvider.System.GetUtcNow()); // moves the honest node's claim timers
        var logs = new LineCapture();
        using var honest = Build("honest", deployed.ContractAddress, nodeClock, poip =>
        {
            poip.Services.AddLogging(b => b.AddProvider(logs));
            Llama(poip, stories).AddDevFunding(o => o.Stake = TokenAmount.FromTokens(200)).AddNode(o => o.MaxOutputTokens = 24);
        });
        using var cheater = Build("cheater", deployed.ContractAddress, null, poip => Llama(poip, stories).AddDevFunding(o => o.Stake = TokenAmount.FromTokens(200)).AddNode(o => o.MaxOutputTokens = 24).AddDemoCheat(CheatKind.AlterOutput));
        using var validator = Build("validator", deployed.ContractAddress, null, poip => Llama(poip, stories).AddDevFunding(o =>
        {
            o.Stake = TokenAmount.FromTokens(100);
            o.RegisterValidator = true;
        }).AddValidator(o => o.AuditProbability = 1.0));
        await honest.StartAsync();
        await cheater.StartAsync();
        await validator.StartAsync();
        var honestRuntime = honest.Services.GetRequiredService<PoIPRuntime>();
        var cheaterRuntime = cheater.Services.GetRequiredService<PoIPRuntime>();
        string validatorAddress = validator.Services.GetRequiredService<PoIPRuntime>().ListenAddresses[0].ToString();

        var model = await ModelId.FromFileAsync(stories);
        var ask = new AskOptions(model, new SamplingParameters(), 7, 16, TokenAmount.ParseTokens("0.016"));
        var honestAnswer = await AskAsync("client-1", deployed.ContractAddress, honestRuntime.ListenAddresses[0].ToString(), validatorAddress, ask);
        var cheatAnswer = await AskAsync("client-2", deployed.ContractAddress, cheaterRuntime.ListenAddresses[0].ToString(), validatorAddress, ask);

        // Read from the chain by a manager holding no key at all: every party is found from its binding.
        using var reader = await EvmStakeManager.ConnectAsync(new EvmStakeManagerOptions { RpcUrl = chain.RpcUrl, ContractAddress = deployed.ContractAddress, ReceiptPollInterval = TimeSpan.FromMilliseconds(2) });
        var honestAudit = await honestAnswer.Audit;
        Assert.True(honestAudit.Verdict is not null, $"{honestAudit.Status}: {honestAudit.Detail}");
        Assert.Equal(VerdictOutcome.Valid, honestAudit.Verdict.Message.Outcome);
        var cheatAudit = await cheatAnswer.Audit;
        Assert.True(cheatAudit.Verdict is not null, $"{cheatAudit.Status}: {cheatAudit.Detail}");
        Assert.Equal(VerdictOutcome.Fraud, cheatAudit.Verdict.Message.Outcome);
        var cheaterStake = await reader.GetStakeAsync(cheaterRuntime.PeerId!.Value);
        Assert.Equal(TokenAmount.FromTokens(100), cheaterStake.Bonded); // half of 200 slashed by the validator's verdict, on chain
        Assert.Equal(EscrowState.Refunded, (await reader.GetEscrowAsync(cheatAnswer.Receipt.Message.RequestId))!.State);
        var escrow = await reader.GetEscrowAsync(honestAnswer.Receipt.Message.RequestId);
        Assert.Equal(EscrowState.Open, escrow!.State);
        Assert.Equal(honestRuntime.PeerId!.Value, escrow.Node);
        var before = await reader.GetBalanceAsync(honestRuntime.PeerId.Value);

        // After the window on both clocks, the node's own claim settles its escrow on chain.
        var paid = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        honestRuntime.PaymentClaimed += (_, applied) => paid.TrySetResult(applied);
        await chain.AdvanceTimeAsync(LocalNetworkOptions.DevParameters.DisputeWindow + TimeSpan.FromSeconds(2));
        nodeClock.Advance(LocalNetworkOptions.DevParameters.DisputeWindow + TimeSpan.FromSeconds(2));
        // A claim that met a transient fault is re-armed with a backoff on the node's clock: move it on (bounded) until paid.
        for (int round = 0; round < 12 && !paid.Task.IsCompleted; round++)
        {
            await Task.WhenAny(paid.Task, Task.Delay(TimeSpan.FromSeconds(5)));
            nodeClock.Advance(TimeSpan.FromMinutes(5));
        }

        Assert.True(paid.Task.IsCompleted, "the honest node was not paid; its claim log: " + string.Join(" | ", logs.Lines.Where(l => l.Contains("claim", StringComparison.OrdinalIgnoreCase))));
        Assert.True(await paid.Task, "the claim was answered but not applied; its claim log: " + string.Join(" | ", logs.Lines.Where(l => l.Contains("claim", StringComparison.OrdinalIgnoreCase))));

        var price = honestAnswer.Receipt.Message.Price;
        var fee = new TokenAmount(price.BaseUnits * LocalNetworkOptions.DevParameters.ProtocolFeeBps / 10_000);
        Assert.Equal(EscrowState.Settled, (await reader.GetEscrowAsync(honestAnswer.Receipt.Message.RequestId))!.State);
        Assert.Equal(before + price - fee, await reader.GetBalanceAsync(honestRuntime.PeerId.Value));
        var totals = await reader.GetTotalsAsync();
        Assert.True(totals.IsConserved);
        Assert.Equal(totals.Supply, await reader.GetContractBalanceAsync());
        Assert.Equal(TokenAmount.Zero, totals.Escrowed);

        await validator.StopAsync();
        await cheater.StopAsync();
        await honest.StopAsync();
    }

    private async Task<ClientAnswer> AskAsync(string name, string contract, string node, string validator, AskOptions ask)
    {
        using var host = Build(name, contract, null, poip => poip.AddDevFunding(o => o.Balance = TokenAmount.FromTokens(10)).AddClient(o =>
        {
            o.Nodes.Add(node);
            o.Validators.Add(validator);
        }));
        await host.StartAsync();
        var answer = await host.Services.GetRequiredService<PoIPClient>().AskAsync("Once upon a time", ask);
        await answer.Audit; // the audit runs after the answer: let it end before the client host stops
        await host.StopAsync();
        return answer;
    }

    private IHost Build(string name, string contract, TimeProvider? time, Action<PoIPBuilder> compose)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        var poip = builder.Services.AddPoIP(o => o.KeyFile = Path.Combine(_directory, name + ".key"))
            .AddEvmEconomics(o =>
            {
                o.RpcUrl = chain.RpcUrl.ToString();
                o.ContractAddress = contract;
                o.AccountPrivateKey = EvmAccounts.NewPrivateKey();
                o.ReceiptPollInterval = TimeSpan.FromMilliseconds(2);
                o.DevChain = true;
            });
        compose(poip);
        return builder.Build();
    }

    private static PoIPBuilder Llama(PoIPBuilder poip, string model) => poip.AddLlamaEngine(o =>
    {
        o.ModelPath = model;
        o.Threads = 1;
        o.ContextSize = 512;
        o.MaxPromptTokens = 128;
        o.MaxOutputTokens = 64;
        o.MaxConcurrentSequences = 1;
    });
}

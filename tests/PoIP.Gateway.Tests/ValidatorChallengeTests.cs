using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Economics.Embedded;
using PoIP.Hosting.Client;
using PoIP.Hosting.Validation;
using PoIP.Inference.Llama;
using PoIP.Inference.Verification;
using PoIP.Network;
using PoIP.Network.Addressing;
using PoIP.Testing.LocalNetwork;

namespace PoIP.Gateway.Tests;

/// <summary>A validator sends its own known-answer challenges and re-executes every answer (no lottery); fraud is slashed.</summary>
[Collection(GatewayNetworkGroup.Name)]
public sealed class ValidatorChallengeTests
{
    [Fact]
    public async Task ChallengeAsync_HonestAndCheatingNodes_HonestPassesCheaterFailsReexecutionAndIsSlashed()
    {
        string data = Directory.CreateTempSubdirectory("poip-challenge-").FullName;
        try
        {
            await using var network = await LocalNetwork.StartAsync(new LocalNetworkOptions
            {
                ModelPath = GatewayFixture.Stories,
                DataDirectory = data,
                Nodes = 3,
                Cheat = CheatKind.AlterOutput,
                AuditProbability = 0, // the network's own validator audits nothing: only the challenger's re-execution can catch it
                MaxTokens = 64,
            });
            var ledger = (EmbeddedStakeManager)network.Ledger;
            using var key = Ed25519KeyPair.Generate();
            Assert.True((await ledger.CreateAccountAsync(OperationId.New(), key.PeerId)).IsApplied);
            Assert.True((await ledger.DepositAsync(OperationId.New(), key.PeerId, TokenAmount.FromTokens(210))).IsApplied);
            Assert.True((await ledger.StakeAsync(OperationId.New(), key.PeerId, TokenAmount.FromTokens(200))).IsApplied); // a validator bonds the minimum stake
            Assert.True((await ledger.RegisterValidatorAsync(OperationId.New(), key.PeerId)).IsApplied);
            await using var engine = await LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions { ModelPath = GatewayFixture.Stories, Threads = 1, ContextSize = 512, MaxOutputTokens = 64, MaxPromptTokens = 256 });
            var validator = new ValidatorService(new ValidatorServiceOptions
            {
                Key = key,
                Verifier = new ReexecutionVerifier(engine, new ReexecutionVerifierOptions()),
                Stakes = ledger,
                AuditProbability = AuditSelectionProbability.FromDouble(0),
            });
            var hostOptions = new Libp2pHostOptions { Key = key };
            hostOptions.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
            await using var host = Libp2pHost.Create(hostOptions);
            await host.StartAsync();
            var client = new PoIPClient(new PoIPClientOptions { Key = key, Host = host, Stakes = ledger, Nodes = network.NodeAddresses, Hedging = false });
            var challenger = new ValidatorChallenger(client, validator, engine);
            var judged = new List<AuditOutcome>();
            challenger.Judged += (_, outcome) => judged.Add(outcome);
            var price = TokenAmount.ParseTokens("0.001");
            var cheater = network.Nodes[2].Id;
            var stakeBefore = (await ledger.GetStakeAsync(cheater)).Bonded;

            var honest = await challenger.ChallengeAsync(network.NodeAddresses[0], price);
            int honestJudged = judged.Count;
            var cheat = await challenger.ChallengeAsync(network.NodeAddresses[2], price);

            int expected = Inference.Diagnostics.KnownAnswerTest.Challenges.Count + 2; // the embedded stories260K cases + 2 derived by running the validator's engine
            Assert.True(honest.KnownAnswerPassed, honest.Detail);
            Assert.Equal(expected, honest.Challenges);
            Assert.Contains($"{expected}/{expected} known-answer challenges answered exactly, {expected} re-executed", honest.Detail, StringComparison.Ordinal);
            Assert.Equal(expected, honestJudged);
            Assert.All(judged.Take(honestJudged), o => Assert.Equal(VerdictOutcome.Valid, o.Verdict!.Message.Outcome));
            Assert.False(cheat.KnownAnswerPassed, cheat.Detail);
            Assert.Contains("re-execution found fraud", cheat.Detail, StringComparison.Ordinal);
            Assert.True(judged[^1].Slashed, judged[^1].Detail);
            Assert.True((await ledger.GetStakeAsync(cheater)).Bonded < stakeBefore);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}

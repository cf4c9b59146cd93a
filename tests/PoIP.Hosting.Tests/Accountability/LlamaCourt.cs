using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Economics.Embedded;
using PoIP.Hosting.Validation;
using PoIP.Inference.Llama;
using PoIP.Inference.Verification;
using PoIP.Testing.LocalNetwork;

namespace PoIP.Hosting.Tests.Accountability;

/// <summary>
/// Real llama.cpp (stories260K) answering and auditing, real validators (<see cref="ValidatorService"/>,
/// re-execution, every receipt audited) and a real SQLite ledger with accountability rules and a fake clock.
/// </summary>
internal sealed class LlamaCourt : IAsyncDisposable
{
    public static readonly TokenAmount NodeStake = TokenAmount.ParseTokens("1000");
    public static readonly TokenAmount ValidatorStake = TokenAmount.ParseTokens("100");

    private readonly string _directory;
    private readonly List<Ed25519KeyPair> _keys = [];

    private LlamaCourt(string directory, LlamaInferenceEngine engine, EmbeddedStakeManager ledger, FakeTimeProvider clock)
    {
        _directory = directory;
        Engine = engine;
        Ledger = ledger;
        Clock = clock;
        Node = Key();
        Client = Key();
    }

    public LlamaInferenceEngine Engine { get; }

    public EmbeddedStakeManager Ledger { get; }

    public FakeTimeProvider Clock { get; }

    public Ed25519KeyPair Node { get; }

    public Ed25519KeyPair Client { get; }

    public static async Task<LlamaCourt> OpenAsync(AccountabilityRules rules)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        var engine = await LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions { ModelPath = HostingFixture.Stories, Threads = 1, ContextSize = 512, MaxOutputTokens = 48, MaxPromptTokens = 128 });
        string directory = Directory.CreateTempSubdirectory("poip-court-").FullName;
        string path = Path.Combine(directory, "ledger.db");
        var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = path, TimeProvider = clock, SynchronousFull = false, Accountability = rules });
        var court = new LlamaCourt(directory, engine, ledger, clock);
        await court.StakeAsync(court.Node.PeerId, NodeStake);
        return court;
    }

    public Ed25519KeyPair Key()
    {
        var key = Ed25519KeyPair.Generate();
        _keys.Add(key);
        return key;
    }

    public async Task StakeAsync(PeerId peer, TokenAmount amount)
    {
        Assert.True((await Ledger.DepositAsync(OperationId.New(), peer, amount)).IsApplied);
        Assert.True((await Ledger.StakeAsync(OperationId.New(), peer, amount)).IsApplied);
    }

    /// <summary>A registered validator auditing with real re-execution (or, when <paramref name="lazy"/>, answering "valid" without looking).</summary>
    public async Task<(Ed25519KeyPair Key, ValidatorService Service)> ValidatorAsync(bool lazy = false)
    {
        var key = Key();
        await StakeAsync(key.PeerId, ValidatorStake);
        Assert.True((await Ledger.RegisterValidatorAsync(OperationId.New(), key.PeerId)).IsApplied);
        IProofVerifier verifier = lazy ? new LazyVerifier() : new ReexecutionVerifier(Engine, new ReexecutionVerifierOptions());
        return (key, new ValidatorService(new ValidatorServiceOptions { Key = key, Verifier = verifier, Stakes = Ledger, AuditProbability = AuditSelectionProbability.FromDouble(1.0), TimeProvider = Clock }));
    }

    /// <summary>A transaction served on llama.cpp by <paramref name="node"/> for <paramref name="client"/>, honestly or altering its output.</summary>
    public Task<ReceiptFile> ServeAsync(bool cheat, Ed25519KeyPair? node = null, Ed25519KeyPair? client = null, ulong nonce = 1)
    {
        client ??= Client;
        const string prompt = "Once upon a time";
        var request = SignedMessage.Create(client, InferenceRequest.ForPrompt(prompt, Engine.Model.Id, client.PeerId, SamplingParameters.Greedy, 7, 32, TokenAmount.ParseTokens("1"), nonce, Clock.GetUtcNow().AddHours(1)));
        var engine = cheat ? (Core.Engine.IInferenceEngine)new CheatingEngine(Engine, CheatKind.AlterOutput) : Engine;
        return ReceiptIssuer.IssueAsync(engine, node ?? Node, request, prompt, TokenAmount.ParseTokens("0.5"), Clock);
    }

    public static Task<AuditOutcome> AuditAsync(ValidatorService validator, ReceiptFile served) =>
        validator.AuditAsync(served.Request.Envelope.Encoded, System.Text.Encoding.UTF8.GetBytes(served.Prompt), served.Receipt.Envelope.Encoded, served.OutputTokens);

    public async Task<DisputeCase> CaseAsync(ReceiptFile served) => await Ledger.GetCaseAsync(new ReceiptId(served.Receipt.Hash)) ?? throw new InvalidOperationException("no case");

    public async Task<TokenAmount> BondedAsync(PeerId peer) => (await Ledger.GetStakeAsync(peer)).Bonded;

    public async Task AssertConservedAsync()
    {
        var totals = await Ledger.GetTotalsAsync();
        Assert.True(totals.IsConserved, totals.ToString());
        var journal = await Ledger.VerifyJournalAsync();
        Assert.True(journal.Matches, journal.Difference);
    }

    public async ValueTask DisposeAsync()
    {
        Ledger.Dispose();
        await Engine.DisposeAsync();
        foreach (var key in _keys)
        {
            key.Dispose();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    /// <summary>A lazy validator's "verifier": says valid without re-executing anything (what rule 4 must catch).</summary>
    private sealed class LazyVerifier : IProofVerifier
    {
        public Task<VerificationResult> VerifyAsync(VerificationCase verificationCase, CancellationToken cancellationToken = default) =>
            Task.FromResult(VerificationResult.Valid("not checked"));
    }
}

using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Testing.Economics;

namespace PoIP.Economics.Tests.Accountability;

/// <summary>
/// A ledger with accountability rules, one staked node, a client, registered validators and one
/// signed request + receipt of the node: the scene every accountability test judges.
/// </summary>
internal sealed class Court : IAsyncDisposable
{
    public static readonly TokenAmount NodeStake = TokenAmount.ParseTokens("1000");

    private Court(EmbeddedHarness harness, Ed25519KeyPair node, Ed25519KeyPair client, Ed25519KeyPair[] validators)
    {
        Harness = harness;
        Node = node;
        Client = client;
        Validators = validators;
        Request = EvidenceFactory.Request(client, 1, TokenAmount.ParseTokens("1"));
        Receipt = EvidenceFactory.Receipt(node, Request, TokenAmount.ParseTokens("0.5"));
    }

    public EmbeddedHarness Harness { get; }

    public IValidatorAccountability Ledger => Harness.Embedded;

    public Ed25519KeyPair Node { get; }

    public Ed25519KeyPair Client { get; }

    public Ed25519KeyPair[] Validators { get; }

    public SignedMessage<InferenceRequest> Request { get; }

    public SignedMessage<InferenceReceipt> Receipt { get; }

    public ReceiptId ReceiptId => new(Receipt.Hash);

    public static async Task<Court> OpenAsync(AccountabilityRules rules, int validators)
    {
        var harness = new EmbeddedHarness(accountability: rules);
        var node = Ed25519KeyPair.Generate();
        var client = Ed25519KeyPair.Generate();
        await harness.FundAsync(node.PeerId, NodeStake);
        Assert.True((await harness.Embedded.StakeAsync(OperationId.New(), node.PeerId, NodeStake)).IsApplied);
        await harness.FundAsync(client.PeerId, TokenAmount.ParseTokens("10"));
        var keys = new Ed25519KeyPair[validators];
        for (int i = 0; i < validators; i++)
        {
            keys[i] = Ed25519KeyPair.Generate();
            await harness.RegisterValidatorAsync(keys[i].PeerId);
        }

        return new Court(harness, node, client, keys);
    }

    public static SignedMessage<Verdict> Verdict(Ed25519KeyPair validator, SignedMessage<InferenceReceipt> receipt, VerdictOutcome outcome, DateTimeOffset? issuedAt = null, PeerId? validatorId = null) =>
        SignedMessage.Create(validator, new Verdict
        {
            ReceiptId = new ReceiptId(receipt.Hash),
            NodeId = receipt.Signer,
            ValidatorId = validatorId ?? validator.PeerId,
            Outcome = outcome,
            Reason = outcome == VerdictOutcome.Fraud ? FraudReason.ActivationMismatch : default,
            FirstFailingPosition = outcome == VerdictOutcome.Fraud ? 2 : -1,
            IssuedAt = issuedAt ?? EvidenceFactory.Stamp,
        });

    public Task<EconomicResult> VoteAsync(int validator, VerdictOutcome outcome, DateTimeOffset? issuedAt = null) =>
        Ledger.SubmitVerdictAsync(OperationId.New(), Verdict(Validators[validator], Receipt, outcome, issuedAt), Request, Receipt);

    public Task<EconomicResult> AppealAsync(Ed25519KeyPair appellant, PeerId? appellantId = null) =>
        Ledger.AppealAsync(OperationId.New(), SignedMessage.Create(appellant, new Appeal { ReceiptId = ReceiptId, AppellantId = appellantId ?? appellant.PeerId, IssuedAt = EvidenceFactory.Stamp }));

    public async Task<DisputeCase> CaseAsync() => await Ledger.GetCaseAsync(ReceiptId) ?? throw new InvalidOperationException("no case");

    public async Task<TokenAmount> BondedAsync(PeerId peer) => (await Harness.Embedded.GetStakeAsync(peer)).Bonded;

    public async Task AssertConservedAsync()
    {
        var totals = await Harness.Embedded.GetTotalsAsync();
        Assert.True(totals.IsConserved, totals.ToString());
    }

    public int IndexOf(PeerId validator) => Array.FindIndex(Validators, v => v.PeerId == validator);

    public async ValueTask DisposeAsync()
    {
        await Harness.DisposeAsync();
        Node.Dispose();
        Client.Dispose();
        foreach (var v in Validators)
        {
            v.Dispose();
        }
    }
}

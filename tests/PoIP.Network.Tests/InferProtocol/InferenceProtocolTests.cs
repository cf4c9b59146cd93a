using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Merkle;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Network.InferProtocol;
using PoIP.TestUtils;
using PoIP.Network.Protocols;

namespace PoIP.Network.Tests.InferProtocol;

public sealed class InferenceProtocolTests : IDisposable
{
    private readonly Ed25519KeyPair _client = Ed25519KeyPair.Generate();
    private readonly Ed25519KeyPair _node = Ed25519KeyPair.Generate();
    private readonly FakeTimeProvider _time = new(SampleMessages.Now);
    private readonly ScriptedEngine _engine = new();

    private InferenceService CreateService(ScriptedEngine? engine = null, string? notServing = null) => new(new InferenceServiceOptions
    {
        ServingCheck = notServing is null ? null : _ => ValueTask.FromResult<string?>(notServing),
        NodeKey = _node,
        Engine = engine ?? _engine,
        Commitments = new CountingCommitments(),
        Policy = new AdmissionPolicy { Models = new HashSet<ModelId> { _engine.Model.Id }, PricePerToken = TokenAmount.FromBaseUnits(100) },
        TimeProvider = _time,
    });

    private SignedMessage<InferenceRequest> Request(string prompt, ulong nonce = 1, int maxTokens = 8) =>
        SignedMessage.Create(_client, InferenceRequest.ForPrompt(prompt, _engine.Model.Id, _client.PeerId, SamplingParameters.Greedy, 5, maxTokens, TokenAmount.FromBaseUnits(10_000), nonce, SampleMessages.Now.AddMinutes(1)));

    private async Task<(InferenceOutcome Client, ServedRequest Node)> RunAsync(InferenceService service, SignedMessage<InferenceRequest> request, string prompt)
    {
        var (clientEnd, nodeEnd) = DuplexStreams.CreatePair();
        using (clientEnd)
        using (nodeEnd)
        {
            var served = service.ServeAsync(nodeEnd);
            var outcome = await InferenceClient.InvokeAsync(clientEnd, request, System.Text.Encoding.UTF8.GetBytes(prompt), _node.PeerId);
            return (outcome, await served);
        }
    }

    [Fact]
    public async Task Invoke_HonestNode_TokensAndVerifiedReceipt()
    {
        var request = Request("hello");
        var (outcome, served) = await RunAsync(CreateService(), request, "hello");
        Assert.Equal(InferenceOutcomeStatus.Completed, outcome.Status);
        Assert.Equal(8, outcome.OutputTokens.Count);
        Assert.Equal(served.OutputTokens, outcome.OutputTokens);
        var receipt = outcome.Receipt!.Message;
        Assert.Equal(request.Hash, receipt.RequestId.Digest);
        Assert.Equal(MerkleTree.FromTokens([.. outcome.OutputTokens]).Root, receipt.OutputRoot);
        Assert.Equal(TokenAmount.FromBaseUnits(800), receipt.Price);
        Assert.Equal(8, BitConverter.ToInt32(receipt.Commitment.Span));
        Assert.Equal(Core.Engine.StopReason.MaxTokens, receipt.StopReason);
    }

    [Fact]
    public async Task Invoke_ReplayedRequest_RefusedSecondTime()
    {
        var service = CreateService();
        var request = Request("hello");
        Assert.Equal(InferenceOutcomeStatus.Completed, (await RunAsync(service, request, "hello")).Client.Status);
        var (outcome, served) = await RunAsync(service, request, "hello");
        Assert.Equal(InferenceOutcomeStatus.Refused, outcome.Status);
        Assert.Equal((uint)AdmissionStatus.ReplayedNonce, outcome.RefusalStatus);
        Assert.False(served.Served);
    }

    [Fact]
    public async Task Invoke_PromptAlteredInTransit_RefusedAsInputMismatch()
    {
        var (outcome, _) = await RunAsync(CreateService(), Request("hello"), "hellO");
        Assert.Equal(InferenceOutcomeStatus.Refused, outcome.Status);
        Assert.Equal((uint)AdmissionStatus.InputMismatch, outcome.RefusalStatus);
    }

    [Fact]
    public async Task Invoke_EngineRefuses_NodeSendsRefusalAndKeepsServing()
    {
        var service = CreateService();
        string longPrompt = new('x', 200);
        var (outcome, _) = await RunAsync(service, Request(longPrompt, nonce: 1), longPrompt);
        Assert.Equal(InferenceOutcomeStatus.Refused, outcome.Status);
        Assert.Equal(InferStatusCodes.EngineError, outcome.RefusalStatus);
        Assert.Equal(InferenceOutcomeStatus.Completed, (await RunAsync(service, Request("ok", nonce: 2), "ok")).Client.Status);
    }

    [Fact]
    public async Task Invoke_NodeNotAllowedToServe_RefusedBeforeAdmission()
    {
        var (outcome, served) = await RunAsync(CreateService(notServing: "stake below the minimum"), Request("hello"), "hello");
        Assert.Equal(InferenceOutcomeStatus.Refused, outcome.Status);
        Assert.Equal(InferStatusCodes.NotServing, outcome.RefusalStatus);
        Assert.Contains("stake", outcome.Detail, StringComparison.Ordinal);
        Assert.False(served.Served);
    }

    [Fact]
    public async Task Serve_GarbageOpeningFrame_RefusedWithoutThrowing()
    {
        var (clientEnd, nodeEnd) = DuplexStreams.CreatePair();
        var served = CreateService().ServeAsync(nodeEnd);
        await LengthPrefixedFrames.WriteAsync(clientEnd, new byte[] { 0xFF, 0xFF, 0xFF });
        await clientEnd.FlushAsync();
        var result = await served;
        Assert.False(result.Served);
        Assert.Equal(InferStatusCodes.BadFrame, result.RefusalStatus);
    }

    [Fact]
    public async Task Invoke_NodeDiesMidStream_Interrupted()
    {
        var hold = new TaskCompletionSource();
        var engine = new ScriptedEngine { HoldAfterFirstToken = hold };
        var service = CreateService(engine);
        var (clientEnd, nodeEnd) = DuplexStreams.CreatePair();
        using var nodeStop = new CancellationTokenSource();
        var served = service.ServeAsync(nodeEnd, nodeStop.Token);
        var call = InferenceClient.InvokeAsync(clientEnd, Request("hello"), "hello"u8.ToArray(), _node.PeerId);
        await engine.FirstTokenSent.Task;
        nodeStop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => served);
        nodeEnd.Dispose();
        var outcome = await call;
        Assert.Equal(InferenceOutcomeStatus.Interrupted, outcome.Status);
        Assert.Null(outcome.Receipt);
    }

    [Fact]
    public async Task FindReceiptProblem_TokensDifferFromReceipt_Detected()
    {
        var request = Request("hello");
        var (outcome, _) = await RunAsync(CreateService(), request, "hello");
        var receipt = outcome.Receipt!;
        Assert.Null(InferenceClient.FindReceiptProblem(receipt, request, _node.PeerId, outcome.OutputTokens));
        var altered = outcome.OutputTokens.ToArray();
        altered[3]++;
        Assert.Contains("output root", InferenceClient.FindReceiptProblem(receipt, request, _node.PeerId, altered), StringComparison.Ordinal);
        Assert.Contains("not the node dialed", InferenceClient.FindReceiptProblem(receipt, request, _client.PeerId, outcome.OutputTokens), StringComparison.Ordinal);
        Assert.Contains("another request", InferenceClient.FindReceiptProblem(receipt, Request("hello", nonce: 9), _node.PeerId, outcome.OutputTokens), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _client.Dispose();
        _node.Dispose();
    }
}

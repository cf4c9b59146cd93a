using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Merkle;
using PoIP.Core.Protocol;
using PoIP.Hosting.Validation;
using PoIP.Network.AuditProtocol;
using PoIP.TestUtils;

namespace PoIP.Hosting.Tests.Dht;

/// <summary>A fetched transcript is refused before any use unless every byte is bound by the client's or the node's signature.</summary>
public sealed class TranscriptCheckTests : IDisposable
{
    private const string Prompt = "Once upon a time";
    private static readonly int[] Tokens = [5, 6, 7, 8];
    private readonly Ed25519KeyPair _client = Ed25519KeyPair.Generate();
    private readonly Ed25519KeyPair _node = Ed25519KeyPair.Generate();
    private readonly Ed25519KeyPair _other = Ed25519KeyPair.Generate();

    [Fact]
    public void Refusal_TranscriptBoundByBothSignatures_Accepted()
    {
        var (t, drawn) = Transcript();

        Assert.Null(TranscriptCheck.Refusal(t, drawn, _node.PeerId, 1024));
    }

    [Fact]
    public void Refusal_TokenChanged_Refused() =>
        AssertRefused(t => t with { OutputTokens = [5, 6, 7, 9] }, "tokens");

    [Fact]
    public void Refusal_TokenDropped_Refused() =>
        AssertRefused(t => t with { OutputTokens = [5, 6, 7] }, "tokens");

    [Fact]
    public void Refusal_PromptChanged_Refused() =>
        AssertRefused(t => t with { Prompt = "Once upon a tide"u8.ToArray() }, "prompt");

    [Fact]
    public void Refusal_OversizePrompt_Refused() =>
        AssertRefused(t => t with { Prompt = new byte[2048] }, "oversize");

    [Fact]
    public void Refusal_AnotherReceiptThanTheOneDrawn_Refused()
    {
        var (t, drawn) = Transcript();
        var (other, _) = Transcript(tokens: [1, 2, 3]);

        var why = TranscriptCheck.Refusal(t with { ReceiptEnvelope = other.ReceiptEnvelope, OutputTokens = [1, 2, 3] }, drawn, _node.PeerId, 1024);

        Assert.Contains("not the receipt drawn", why, StringComparison.Ordinal);
    }

    [Fact]
    public void Refusal_ReceiptForgedInTheNodesNameBySomeoneElse_Refused()
    {
        // drawn from a record carrying a receipt that names the node but is signed by another key
        var (t, _) = Transcript(signer: _other);
        var drawn = new ReceiptId(Sha256Digest.Compute(t.ReceiptEnvelope.Span));

        Assert.Contains("not the node's", TranscriptCheck.Refusal(t, drawn, _node.PeerId, 1024), StringComparison.Ordinal);
    }

    [Fact]
    public void Refusal_RequestSignedByANonClient_Refused()
    {
        var request = SignedMessage.Create(_other, SampleMessages.Request(_client.PeerId, Prompt));
        var (t, drawn) = Transcript(request: request);

        Assert.Contains("client-signed", TranscriptCheck.Refusal(t, drawn, _node.PeerId, 1024), StringComparison.Ordinal);
    }

    [Fact]
    public void Refusal_GarbageReceiptEnvelope_Refused()
    {
        var (t, _) = Transcript();
        byte[] garbage = [1, 2, 3, 4, 5];

        var why = TranscriptCheck.Refusal(t with { ReceiptEnvelope = garbage }, new ReceiptId(Sha256Digest.Compute(garbage)), _node.PeerId, 1024);

        Assert.Contains("bad envelope", why, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _client.Dispose();
        _node.Dispose();
        _other.Dispose();
    }

    private void AssertRefused(Func<AuditSubmission, AuditSubmission> tamper, string reason)
    {
        var (t, drawn) = Transcript();

        var why = TranscriptCheck.Refusal(tamper(t), drawn, _node.PeerId, 1024);

        Assert.NotNull(why);
        Assert.Contains(reason, why, StringComparison.Ordinal);
    }

    private (AuditSubmission Transcript, ReceiptId Drawn) Transcript(Ed25519KeyPair? signer = null, int[]? tokens = null, SignedMessage<InferenceRequest>? request = null)
    {
        tokens ??= Tokens;
        request ??= SignedMessage.Create(_client, SampleMessages.Request(_client.PeerId, Prompt));
        var receipt = SignedMessage.Create(signer ?? _node, SampleMessages.Receipt(_node.PeerId, new RequestId(request.Hash), request.Message) with
        {
            OutputRoot = MerkleTree.FromTokens(tokens).Root,
            OutputTokenCount = tokens.Length,
        });
        var t = new AuditSubmission(AuditWire.Version, request.Envelope.Encoded, System.Text.Encoding.UTF8.GetBytes(Prompt), receipt.Envelope.Encoded, tokens);
        return (t, new ReceiptId(receipt.Hash));
    }
}

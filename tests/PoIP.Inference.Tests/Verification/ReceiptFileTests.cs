using System.Text;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Xunit;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Merkle;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;
using PoIP.Inference.Llama;
using PoIP.Inference.Tests.Gguf;
using PoIP.Inference.Tests.Llama;
using PoIP.Inference.Verification;

namespace PoIP.Inference.Tests.Verification;

/// <summary>One honest transaction on the real llama.cpp engine (stories260K), shared by the receipt-file tests.</summary>
public sealed class StoriesReceiptFixture : IAsyncLifetime
{
    public const string Prompt = "Once upon a time, there was a little dog";
    public const int MaxTokens = 40;

    private LlamaInferenceEngine? _engine;
    private ReceiptFile? _file;
    private byte[]? _bytes;

    public Ed25519KeyPair Client { get; } = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)11, 32).ToArray());

    public Ed25519KeyPair Node { get; } = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)12, 32).ToArray());

    public LlamaInferenceEngine Engine => _engine ?? throw new InvalidOperationException("engine not started");

    public ReceiptFile File => _file ?? throw new InvalidOperationException("not generated");

    public byte[] Bytes => _bytes ?? throw new InvalidOperationException("not generated");

    public ReexecutionVerifier Verifier => new(Engine, new ReexecutionVerifierOptions());

    public async Task InitializeAsync()
    {
        _engine = await LlamaInferenceEngine.LoadAsync(StoriesModel.Options(sequences: 1));
        var sampling = new SamplingParameters { Temperature = 0.8f, TopK = 40, TopP = 0.95f, MinP = 0.05f };
        var request = SignedMessage.Create(Client, InferenceRequest.ForPrompt(Prompt, Engine.Model.Id, Client.PeerId, sampling, 7, MaxTokens, TokenAmount.FromTokens(1), 99, ProofFixture.Time().GetUtcNow().AddHours(1)));
        _file = await ReceiptIssuer.IssueAsync(Engine, Node, request, Prompt, TokenAmount.Zero, ProofFixture.Time());
        _bytes = _file.ToUtf8Json();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        Node.Dispose();
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }
}

public sealed class ReceiptFileTests(StoriesReceiptFixture fixture) : IClassFixture<StoriesReceiptFixture>
{
    [Fact]
    public async Task ReadAsync_WrittenFile_RoundTripsEveryField()
    {
        using var directory = new TempDirectory();
        string path = Path.Combine(directory.Path, "r.json");
        await fixture.File.WriteAsync(path);
        var read = await ReceiptFile.ReadAsync(path);

        AssertSameContent(fixture.File, read);
        Assert.Equal(fixture.Bytes, read.ToUtf8Json());
        Assert.Equal(StoriesReceiptFixture.MaxTokens, read.OutputTokens.Count);
        Assert.Equal(StopReason.MaxTokens, read.Receipt.Message.StopReason);
        Assert.Equal(fixture.Node.PeerId, read.Receipt.Signer);
    }

    [Fact]
    public void Parse_FileFromTheVersion1Writer_RewritesTheSameBytes()
    {
        using var stream = typeof(ReceiptFileTests).Assembly.GetManifestResourceStream("receipt-v1.json")!;
        using var text = new StreamReader(stream, Encoding.UTF8);
        byte[] golden = Encoding.UTF8.GetBytes(text.ReadToEnd().ReplaceLineEndings(Environment.NewLine));

        var file = ReceiptFile.Parse(golden);

        Assert.Equal(golden, file.ToUtf8Json());
        Assert.Equal("Once upon a time, there was a little dog", file.Prompt);
        Assert.Equal(40, file.OutputTokens.Count);
    }

    [Fact]
    public async Task Verify_HonestFileOnRealEngine_Valid()
    {
        var file = ReceiptFile.Parse(fixture.Bytes);
        var result = await fixture.Verifier.VerifyAsync(file.ToVerificationCase());
        Assert.True(result.Outcome == VerdictOutcome.Valid, result.ToString());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(StoriesReceiptFixture.MaxTokens / 2)]
    [InlineData(StoriesReceiptFixture.MaxTokens - 1)]
    public async Task Verify_TokenTamperedCommitmentRecomputedAndResigned_FraudAtThatPosition(int position)
    {
        // The strongest form of the lie: the node changes one token, recomputes the commitment honestly
        // by a teacher-forced prefill of what it claims, and signs it all. Only the sampling replay can tell.
        int[] tokens = [.. fixture.File.OutputTokens];
        tokens[position] = OtherToken(tokens[position]);
        var file = await ResignAsync(tokens, recomputeCommitment: true);

        var result = await fixture.Verifier.VerifyAsync(ReceiptFile.Parse(file.ToUtf8Json()).ToVerificationCase());

        Assert.Equal((VerdictOutcome.Fraud, FraudReason.SamplingMismatch, position), (result.Outcome, result.Reason, result.FirstFailingPosition));
    }

    [Fact]
    public async Task Verify_TokenTamperedOldCommitmentKept_FraudActivationMismatch()
    {
        int[] tokens = [.. fixture.File.OutputTokens];
        tokens[5] = OtherToken(tokens[5]);
        var file = await ResignAsync(tokens, recomputeCommitment: false);

        var result = await fixture.Verifier.VerifyAsync(file.ToVerificationCase());

        Assert.Equal((VerdictOutcome.Fraud, FraudReason.ActivationMismatch), (result.Outcome, result.Reason));
        Assert.Equal(0, result.FirstFailingPosition); // the commitment is keyed to the output root: nothing matches from the prompt on
    }

    [Fact]
    public async Task Verify_TokenEditedInFileOnly_InconclusiveOutputMismatch()
    {
        var json = Json();
        var tokens = json["output_tokens"]!.AsArray();
        tokens[3] = OtherToken(tokens[3]!.GetValue<int>());
        var file = ReceiptFile.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()));

        var result = await fixture.Verifier.VerifyAsync(file.ToVerificationCase());

        Assert.Equal((VerdictOutcome.Inconclusive, FraudReason.OutputMismatch), (result.Outcome, result.Reason));
    }

    [Theory]
    [InlineData("request")]
    [InlineData("receipt")]
    public void Parse_FlippedSignatureByte_SignatureException(string field)
    {
        var json = Json();
        byte[] envelope = Convert.FromBase64String(json[field]!.GetValue<string>());
        envelope[^1] ^= 0x01; // the signature is the envelope's last field
        json[field] = Convert.ToBase64String(envelope);

        var error = Assert.Throws<SignatureException>(() => ReceiptFile.Parse(Encoding.UTF8.GetBytes(json.ToJsonString())));
        Assert.Equal("signature.invalid", error.Code);
    }

    [Fact]
    public void Parse_ReceiptSignedByAnotherKeyThanItsNode_SignatureException()
    {
        using var other = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)13, 32).ToArray());
        var json = Json();
        json["receipt"] = Convert.ToBase64String(SignedMessage.Create(other, fixture.File.Receipt.Message).Envelope.Encoded.Span);

        Assert.Throws<SignatureException>(() => ReceiptFile.Parse(Encoding.UTF8.GetBytes(json.ToJsonString())));
    }

    [Fact]
    public void Parse_EveryTruncation_TypedErrorTruncated()
    {
        byte[] bytes = fixture.Bytes;
        int trimmed = bytes.Length;
        while (trimmed > 0 && char.IsWhiteSpace((char)bytes[trimmed - 1]))
        {
            trimmed--;
        }

        var kinds = new List<DecodeErrorKind>();
        for (int cut = 0; cut < trimmed; cut += Math.Max(1, cut / 20))
        {
            var error = Assert.Throws<PoIPDecodeException>(() => ReceiptFile.Parse(bytes.AsSpan(0, cut)));
            kinds.Add(error.Kind);
        }

        Assert.True(kinds.Count > 50);
        Assert.All(kinds, kind => Assert.Equal(DecodeErrorKind.Truncated, kind));
    }

    [Fact]
    public async Task ReadAsync_OversizeFile_TypedErrorOversize()
    {
        using var directory = new TempDirectory();
        string path = Path.Combine(directory.Path, "big.json");
        byte[] big = new byte[ReceiptFile.MaxLength + 10];
        fixture.Bytes.CopyTo(big, 0);
        big.AsSpan(fixture.Bytes.Length).Fill((byte)' ');
        await File.WriteAllBytesAsync(path, big);

        var error = await Assert.ThrowsAsync<PoIPDecodeException>(() => ReceiptFile.ReadAsync(path));
        Assert.Equal(DecodeErrorKind.Oversize, error.Kind);
        Assert.Equal(DecodeErrorKind.Oversize, Assert.Throws<PoIPDecodeException>(() => ReceiptFile.Parse(big)).Kind);
    }

    [Theory]
    [InlineData("2", DecodeErrorKind.WrongVersion)]
    [InlineData("0", DecodeErrorKind.WrongVersion)]
    [InlineData("\"1\"", DecodeErrorKind.InvalidField)]
    public void Parse_OtherVersion_TypedError(string version, DecodeErrorKind expected)
    {
        var json = Json();
        json["version"] = JsonNode.Parse(version);

        var error = Assert.Throws<PoIPDecodeException>(() => ReceiptFile.Parse(Encoding.UTF8.GetBytes(json.ToJsonString())));
        Assert.Equal(expected, error.Kind);
    }

    [Theory]
    [InlineData("format", "\"poip-receipt-x\"", DecodeErrorKind.Malformed)]
    [InlineData("model_id", "\"00\"", DecodeErrorKind.InvalidField)]
    [InlineData("node_id", "\"12D3KooWabc\"", DecodeErrorKind.InvalidField)]
    [InlineData("output_tokens", "[1, -2]", DecodeErrorKind.InvalidField)]
    [InlineData("output_tokens", "\"1 2\"", DecodeErrorKind.InvalidField)]
    [InlineData("request", "\"not base64!\"", DecodeErrorKind.InvalidField)]
    [InlineData("extra", "1", DecodeErrorKind.InvalidField)]
    public void Parse_BadField_TypedError(string field, string value, DecodeErrorKind expected)
    {
        var json = Json();
        json[field] = JsonNode.Parse(value);

        var error = Assert.Throws<PoIPDecodeException>(() => ReceiptFile.Parse(Encoding.UTF8.GetBytes(json.ToJsonString())));
        Assert.Equal(expected, error.Kind);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("null")]
    [InlineData("{\"format\":\"poip-receipt\",\"version\":1,\"version\":1}")]
    [InlineData("{\"format\":\"poip-receipt\",\"version\":1,\"prompt\":\"a\",\"prompt\":\"b\"}")]
    [InlineData("{\"format\":\"poip-receipt\",\"version\":1,\"extra\":{\"a\":{\"b\":{\"c\":{}}}}}")]
    public void Parse_NotAReceiptFile_TypedError(string text) =>
        Assert.Throws<PoIPDecodeException>(() => ReceiptFile.Parse(Encoding.UTF8.GetBytes(text)));

    [Theory]
    [InlineData("[]", DecodeErrorKind.Malformed)]
    [InlineData("null", DecodeErrorKind.Malformed)]
    [InlineData("", DecodeErrorKind.Truncated)]
    [InlineData("{\"format\":\"poip-receipt\",\"version\":1,\"prompt\":\"a\",\"prompt\":\"b\"}", DecodeErrorKind.InvalidField)]
    [InlineData("{\"format\":\"poip-receipt\",\"version\":2,\"new_field\":1}", DecodeErrorKind.WrongVersion)]
    public void Parse_StructuralProblem_KindNamed(string text, DecodeErrorKind expected) =>
        Assert.Equal(expected, Assert.Throws<PoIPDecodeException>(() => ReceiptFile.Parse(Encoding.UTF8.GetBytes(text))).Kind);

    [Fact]
    public void Parse_TrailingContent_Malformed()
    {
        byte[] bytes = [.. fixture.Bytes, .. "{}"u8.ToArray()];
        Assert.Equal(DecodeErrorKind.Malformed, Assert.Throws<PoIPDecodeException>(() => ReceiptFile.Parse(bytes)).Kind);
    }

    /// <summary>
    /// Random damage to the file's bytes (replace, insert, delete, bit flips, anywhere): reading fails
    /// with a typed error, or the verifier does not say valid — unless what was read is exactly the
    /// original transaction (e.g. only whitespace changed).
    /// </summary>
    [Property(MaxTest = 150)]
    public async Task<bool> ParseAndVerify_MutatedFileBytes_TypedErrorOrNotValidUnlessUnchanged(NonNegativeInt position, byte value, byte operation, NonNegativeInt flips)
    {
        byte[] bytes = Mutate(fixture.Bytes, (position.Get * 257) + value, value, operation, flips.Get % 4);
        ReceiptFile file;
        try
        {
            file = ReceiptFile.Parse(bytes);
        }
        catch (PoIPDecodeException)
        {
            return true;
        }
        catch (SignatureException)
        {
            return true;
        }

        var result = await fixture.Verifier.VerifyAsync(file.ToVerificationCase());
        return result.Outcome != VerdictOutcome.Valid || SameContent(fixture.File, file);
    }

    private static byte[] Mutate(byte[] original, int seed, byte value, byte operation, int flips)
    {
        byte[] bytes = (byte[])original.Clone();
        var random = new Random(seed);
        for (int i = 0; i < flips; i++)
        {
            bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
        }

        int at = random.Next(bytes.Length);
        switch (operation % 5)
        {
            case 0: // replace anywhere
                bytes[at] = value;
                return bytes;
            case 1: // insert anywhere
                return [.. bytes[..at], value, .. bytes[at..]];
            case 2: // delete anywhere
                return [.. bytes[..at], .. bytes[(at + 1)..]];
            case 3: // a digit of a token id: what the verifier itself must judge
                at = Within(bytes, "\"output_tokens\""u8, random);
                bytes[at] = char.IsAsciiDigit((char)bytes[at]) ? (byte)('0' + ((bytes[at] - '0' + 1 + random.Next(9)) % 10)) : value;
                return bytes;
            default: // a character of the prompt
                at = Within(bytes, "\"prompt\""u8, random);
                bytes[at] = (byte)('a' + random.Next(26));
                return bytes;
        }
    }

    private static int Within(byte[] bytes, ReadOnlySpan<byte> property, Random random)
    {
        int start = bytes.AsSpan().IndexOf(property) + property.Length + 3;
        int end = Array.IndexOf(bytes, (byte)(property[1] == (byte)'o' ? ']' : '"'), start);
        return start + random.Next(Math.Max(1, end - start));
    }

    private async Task<ReceiptFile> ResignAsync(int[] tokens, bool recomputeCommitment)
    {
        var original = fixture.File.Receipt.Message;
        var outputRoot = MerkleTree.FromTokens(tokens).Root;
        var commitment = original.Commitment;
        if (recomputeCommitment)
        {
            var engine = fixture.Engine;
            var builder = CommitmentBuilder.ForModel(engine.Model, fixture.File.Request.Message.MaxTokens);
            await engine.TeacherForceAsync(engine.Tokenize(StoriesReceiptFixture.Prompt, addBeginOfSequence: true), tokens, builder);
            commitment = builder.Build(new CommitmentBinding(original.RequestId, original.ModelId, original.Engine, original.InputRoot, outputRoot)).Encode();
        }

        var receipt = original with { OutputRoot = outputRoot, Commitment = commitment };
        return new ReceiptFile(fixture.File.Request, fixture.File.Prompt, SignedMessage.Create(fixture.Node, receipt), tokens);
    }

    private int OtherToken(int token)
    {
        int vocabulary = fixture.Engine.Model.VocabularySize;
        int other = (token + 17) % vocabulary;
        return other < 3 ? other + 3 : other;
    }

    private JsonObject Json() => JsonNode.Parse(fixture.Bytes)!.AsObject();

    private static bool SameContent(ReceiptFile a, ReceiptFile b) =>
        a.Request.Envelope.Encoded.Span.SequenceEqual(b.Request.Envelope.Encoded.Span)
        && a.Receipt.Envelope.Encoded.Span.SequenceEqual(b.Receipt.Envelope.Encoded.Span)
        && a.Prompt == b.Prompt
        && a.OutputTokens.SequenceEqual(b.OutputTokens);

    private static void AssertSameContent(ReceiptFile expected, ReceiptFile actual)
    {
        Assert.Equal(expected.Request.Envelope.Encoded.ToArray(), actual.Request.Envelope.Encoded.ToArray());
        Assert.Equal(expected.Receipt.Envelope.Encoded.ToArray(), actual.Receipt.Envelope.Encoded.ToArray());
        Assert.Equal(expected.Prompt, actual.Prompt);
        Assert.Equal(expected.OutputTokens, actual.OutputTokens);
        Assert.Equal(new RequestId(actual.Request.Hash), actual.Receipt.Message.RequestId);
    }
}

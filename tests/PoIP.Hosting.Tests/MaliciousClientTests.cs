using Google.Protobuf;
using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Core.Protocol.Wire;
using PoIP.Testing.LocalNetwork;
using PoIP.Network;
using PoIP.Network.Addressing;
using PoIP.Network.InferProtocol;
using PoIP.Network.Protocols;
using PoIP.TestUtils;

namespace PoIP.Hosting.Tests;

/// <summary>
/// A malicious client against a real node over libp2p (Noise, Yamux, <c>/poip/infer/1.0.0</c>):
/// every bad request is refused with its own status, the node keeps serving, and the ledger does
/// not move.
/// </summary>
public sealed class MaliciousClientTests : IAsyncLifetime
{
    private readonly string _data = Directory.CreateTempSubdirectory("poip-evil-").FullName;
    private readonly Ed25519KeyPair _attacker = Ed25519KeyPair.Generate();
    private Testing.LocalNetwork.LocalNetwork _network = null!;
    private Libp2pHost _host = null!;
    private Multiaddr _node = null!;
    private ulong _nonce = 1000;

    public enum Attack
    {
        ForgedSignature,
        SignerNotClient,
        ReplayedNonce,
        Expired,
        PromptAltered,
        OversizeFrame,
        GarbageFrame,
        UnknownModel,
        OverLimitTokens,
        PriceCapTooLow,
    }

    public async Task InitializeAsync()
    {
        string model = RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found beside the checkout (../shared/models); set POIP_STORIES260K.");
        _network = await Testing.LocalNetwork.LocalNetwork.StartAsync(new LocalNetworkOptions
        {
            ModelPath = model,
            DataDirectory = _data,
            Nodes = 2,
            Cheat = CheatKind.None,
            AuditProbability = 1.0,
            MaxTokens = 8,
        });
        var options = new Libp2pHostOptions { Key = _attacker };
        options.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        _host = Libp2pHost.Create(options);
        await _host.StartAsync();
        _node = _network.NodeAddresses[0];
    }

    [Theory]
    [InlineData(Attack.ForgedSignature, (uint)AdmissionStatus.BadEnvelope)]
    [InlineData(Attack.SignerNotClient, (uint)AdmissionStatus.SignerMismatch)]
    [InlineData(Attack.ReplayedNonce, (uint)AdmissionStatus.ReplayedNonce)]
    [InlineData(Attack.Expired, (uint)AdmissionStatus.Expired)]
    [InlineData(Attack.PromptAltered, (uint)AdmissionStatus.InputMismatch)]
    [InlineData(Attack.OversizeFrame, InferStatusCodes.BadFrame)]
    [InlineData(Attack.GarbageFrame, InferStatusCodes.BadFrame)]
    [InlineData(Attack.UnknownModel, (uint)AdmissionStatus.UnknownModel)]
    [InlineData(Attack.OverLimitTokens, (uint)AdmissionStatus.OverLimit)]
    [InlineData(Attack.PriceCapTooLow, (uint)AdmissionStatus.PriceTooLow)]
    public async Task Serve_MaliciousRequest_RefusedWithoutHarm(Attack attack, uint expectedStatus)
    {
        var totalsBefore = await _network.Ledger.GetTotalsAsync();
        var stakeBefore = await _network.Ledger.GetStakeAsync(_node.PeerId!.Value);

        if (attack == Attack.ReplayedNonce)
        {
            var original = Sign(Request());
            var first = await ExchangeAsync(Open(original, "Once upon a time"));
            Assert.Equal(InferEventProto.EventOneofCase.Token, first.EventCase); // the first use is served
            var replay = await ExchangeAsync(Open(original, "Once upon a time"));
            AssertRefused(replay, expectedStatus);
        }
        else
        {
            AssertRefused(await ExchangeAsync(Craft(attack)), expectedStatus);
        }

        // The node still serves an honest request end to end (signed receipt checked by the client code).
        var honest = Sign(Request());
        var stream = await _host.OpenStreamAsync(_node, InferenceService.ProtocolId);
        await using (stream)
        {
            var outcome = await InferenceClient.InvokeAsync(stream, honest, "Once upon a time"u8.ToArray(), _node.PeerId!.Value);
            Assert.Equal(InferenceOutcomeStatus.Completed, outcome.Status);
            Assert.NotEmpty(outcome.OutputTokens);
        }

        // Nothing moved in the ledger: refusals cost the node nothing and credit no one.
        Assert.Equal(totalsBefore, await _network.Ledger.GetTotalsAsync());
        Assert.Equal(stakeBefore, await _network.Ledger.GetStakeAsync(_node.PeerId!.Value));
    }

    private static void AssertRefused(InferEventProto reply, uint expectedStatus)
    {
        Assert.Equal(InferEventProto.EventOneofCase.Refusal, reply.EventCase);
        Assert.Equal(expectedStatus, reply.Refusal.Status);
        Assert.False(string.IsNullOrWhiteSpace(reply.Refusal.Detail), "a refusal says why");
    }

    private byte[] Craft(Attack attack)
    {
        const string prompt = "Once upon a time";
        switch (attack)
        {
            case Attack.ForgedSignature:
                byte[] forged = Sign(Request()).Envelope.Encoded.ToArray();
                forged[^1] ^= 0x01; // the signature is the envelope's last field
                return new InferOpenProto { Version = 1, SignedRequest = ByteString.CopyFrom(forged), Prompt = ByteString.CopyFromUtf8(prompt) }.ToByteArray();
            case Attack.SignerNotClient:
                using (var victim = Ed25519KeyPair.Generate())
                {
                    // Claims to be the victim (who would pay), signed by the attacker.
                    return Open(SignedMessage.Create(_attacker, Request() with { ClientId = victim.PeerId }), prompt);
                }

            case Attack.Expired:
                return Open(Sign(Request() with { ExpiresAt = DateTimeOffset.FromUnixTimeSeconds(1_000_000) }), prompt);
            case Attack.PromptAltered:
                return Open(Sign(Request()), "Once upon a dime"); // same length, other bytes: the input root no longer matches
            case Attack.OversizeFrame:
                return [];
            case Attack.GarbageFrame:
                return [0xFF, 0xFF, 0xFF, 0x0F, 0x08, 0x01];
            case Attack.UnknownModel:
                return Open(Sign(Request() with { ModelId = new Core.Hashing.ModelId(Core.Hashing.Sha256Digest.Compute("another model"u8)) }), prompt);
            case Attack.OverLimitTokens:
                return Open(Sign(Request(maxTokens: 10_000)), prompt);
            case Attack.PriceCapTooLow:
                return Open(Sign(Request() with { PriceCap = TokenAmount.Zero }), prompt);
            default:
                throw new ArgumentOutOfRangeException(nameof(attack), attack, null);
        }
    }

    private InferenceRequest Request(int maxTokens = 8) => InferenceRequest.ForPrompt(
        "Once upon a time", _network.Model, _attacker.PeerId, new SamplingParameters(), seed: 1, maxTokens,
        TokenAmount.FromTokens(1), ++_nonce, TimeProvider.System.GetUtcNow().AddMinutes(5));

    private SignedMessage<InferenceRequest> Sign(InferenceRequest request) => SignedMessage.Create(_attacker, request);

    private static byte[] Open(SignedMessage<InferenceRequest> request, string prompt) =>
        new InferOpenProto { Version = 1, SignedRequest = ByteString.CopyFrom(request.Envelope.Encoded.Span), Prompt = ByteString.CopyFromUtf8(prompt) }.ToByteArray();

    /// <summary>
    /// Sends one length-prefixed opening frame and reads the node's first reply; an empty frame stands
    /// for an oversize one: its length prefix announces 16 MiB and a few bytes follow.
    /// </summary>
    private async Task<InferEventProto> ExchangeAsync(byte[] openFrame)
    {
        var stream = await _host.OpenStreamAsync(_node, InferenceService.ProtocolId);
        await using (stream)
        {
            if (openFrame.Length == 0)
            {
                byte[] announce = new byte[16];
                int length = Core.Encoding.UnsignedVarint.Write(announce, 16u << 20);
                await stream.WriteAsync(announce.AsMemory(0, length + 8));
            }
            else
            {
                await LengthPrefixedFrames.WriteAsync(stream, openFrame);
            }

            await stream.FlushAsync();
            byte[]? reply = await LengthPrefixedFrames.ReadAsync(stream, InferenceClient.MaxEventFrameLength);
            Assert.NotNull(reply);
            return InferEventProto.Parser.ParseFrom(reply);
        }
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _network.DisposeAsync();
        _attacker.Dispose();
        Directory.Delete(_data, recursive: true);
    }
}

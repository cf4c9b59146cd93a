using BenchmarkDotNet.Attributes;
using PoIP.Core.Identity;
using PoIP.Core.Merkle;
using PoIP.Core.Protocol;
using PoIP.Core.Signing;

namespace PoIP.Benchmarks.Core;

/// <summary>Micro benchmarks of the protocol primitives every request pays for.</summary>
[MemoryDiagnoser]
public class CoreMicroBenchmarks : IDisposable
{
    private readonly Ed25519KeyPair _key = Ed25519KeyPair.FromSeed(new byte[32]);
    private ReadOnlyMemory<byte> _envelope;
    private byte[] _prompt = [];
    private MerkleTree _tree = null!;
    private MerkleProof _proof = null!;

    [GlobalSetup]
    public void Setup()
    {
        _prompt = new byte[256 * 1024];
        new Random(1).NextBytes(_prompt);
        _tree = MerkleTree.FromChunks(_prompt, 4096);
        _proof = _tree.GetProof(17);
        _envelope = SignedEnvelope.Seal(_key, EnvelopeType.InferenceRequest, new byte[300]).Encoded;
    }

    [Benchmark]
    public SignedEnvelope SealRequestEnvelope() => SignedEnvelope.Seal(_key, EnvelopeType.InferenceRequest, _prompt.AsSpan(0, 300));

    [Benchmark]
    public SignedEnvelope OpenRequestEnvelope() => SignedEnvelope.Open(_envelope, EnvelopeType.InferenceRequest);

    [Benchmark]
    public bool VerifyMerkleProof() => _proof.VerifyLeafData(_prompt.AsSpan(17 * 4096, 4096), _tree.Root);

    [Benchmark]
    public InferenceRequest DecodeRequest() => InferenceRequest.Decode(Sample);

    private static readonly byte[] Sample = InferenceRequest.ForPrompt(
        "hello", new PoIP.Core.Hashing.ModelId(PoIP.Core.Hashing.Sha256Digest.Compute("m"u8)), PeerId.Parse("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"),
        SamplingParameters.Greedy, 1, 16, PoIP.Core.Money.TokenAmount.FromBaseUnits(1), 1, DateTimeOffset.UnixEpoch.AddYears(60)).Encode();

    public void Dispose()
    {
        _key.Dispose();
        GC.SuppressFinalize(this);
    }
}

using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Protocol;
using PoIP.Hosting.DependencyInjection;
using PoIP.Network.InferProtocol;
using PoIP.TestUtils;

namespace PoIP.Hosting.Tests.Dht;

/// <summary>The node's transcript store: bounded, and with a directory found again after a restart.</summary>
public sealed class TranscriptStoreTests : IDisposable
{
    private readonly Ed25519KeyPair _client = Ed25519KeyPair.Generate();
    private readonly Ed25519KeyPair _node = Ed25519KeyPair.Generate();
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "poip-transcripts-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Find_AfterARestartOnTheSameDirectory_ReturnsTheSameTranscript()
    {
        var served = Served("Once upon a time", [5, 6, 7, 8]);
        new TranscriptStore(16, 1 << 20, _directory).Add(served);

        var reopened = new TranscriptStore(16, 1 << 20, _directory); // a restarted node
        var found = reopened.Find(new ReceiptId(served.Receipt!.Hash));

        Assert.NotNull(found);
        Assert.Equal(served.Request!.Envelope.Encoded.ToArray(), found.RequestEnvelope.ToArray());
        Assert.Equal(served.Receipt.Envelope.Encoded.ToArray(), found.ReceiptEnvelope.ToArray());
        Assert.Equal(served.Prompt.ToArray(), found.Prompt.ToArray());
        Assert.Equal([5, 6, 7, 8], found.OutputTokens);
        Assert.Equal(1, reopened.Count);
    }

    [Fact]
    public void Add_BeyondTheCount_OldestFileRemoved()
    {
        var store = new TranscriptStore(2, 1 << 20, _directory);
        var served = Enumerable.Range(0, 3).Select(i => Served($"prompt {i}", [i + 1])).ToList();
        served.ForEach(store.Add);

        Assert.Null(store.Find(new ReceiptId(served[0].Receipt!.Hash)));
        Assert.NotNull(store.Find(new ReceiptId(served[2].Receipt!.Hash)));
        Assert.Equal(2, Directory.GetFiles(_directory, "*.transcript").Length);
        Assert.Equal(2, new TranscriptStore(2, 1 << 20, _directory).Count);
    }

    [Fact]
    public void Open_SmallerLimitThanTheFilesOnDisk_EvictsTheOldestAtStart()
    {
        var store = new TranscriptStore(8, 1 << 20, _directory);
        for (int i = 0; i < 5; i++)
        {
            store.Add(Served($"prompt {i}", [i + 1]));
        }

        var smaller = new TranscriptStore(3, 1 << 20, _directory);

        Assert.Equal(3, smaller.Count);
        Assert.Equal(3, Directory.GetFiles(_directory, "*.transcript").Length);
    }

    [Fact]
    public void Find_DamagedFile_NotHeldAndRemoved()
    {
        var served = Served("Once upon a time", [5, 6, 7, 8]);
        var store = new TranscriptStore(16, 1 << 20, _directory);
        store.Add(served);
        string path = Assert.Single(Directory.GetFiles(_directory, "*.transcript"));
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^3]); // truncated: the token count no longer matches

        Assert.Null(store.Find(new ReceiptId(served.Receipt!.Hash)));
        Assert.False(File.Exists(path));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public void Open_ForeignAndOversizeFiles_RemovedAndReported()
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllText(Path.Combine(_directory, "not-a-receipt-id.transcript"), "x");
        File.WriteAllBytes(Path.Combine(_directory, new string('a', 64) + ".transcript"), new byte[4096]);
        var problems = new List<string>();

        var store = new TranscriptStore(16, 1024, _directory, problems.Add);

        Assert.Equal(0, store.Count);
        Assert.Equal(2, problems.Count);
        Assert.Empty(Directory.GetFiles(_directory, "*.transcript"));
    }

    [Fact]
    public void Find_WithoutDirectory_KeptInMemoryOnly()
    {
        var served = Served("Once upon a time", [5, 6]);
        var store = new TranscriptStore(16, 1 << 20);
        store.Add(served);

        Assert.False(store.IsDurable);
        Assert.NotNull(store.Find(new ReceiptId(served.Receipt!.Hash)));
        Assert.False(Directory.Exists(_directory));
    }

    public void Dispose()
    {
        _client.Dispose();
        _node.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private ServedRequest Served(string prompt, int[] tokens)
    {
        var request = SignedMessage.Create(_client, SampleMessages.Request(_client.PeerId, prompt));
        var receipt = SignedMessage.Create(_node, SampleMessages.Receipt(_node.PeerId, new RequestId(request.Hash), request.Message));
        return new ServedRequest(true, 0, "served", request, receipt, tokens) { Prompt = System.Text.Encoding.UTF8.GetBytes(prompt) };
    }
}

using System.Security.Cryptography;
using System.Text;
using PoIP.Network.Kademlia;
using PoIP.Network.Kademlia.Testing;
using Xunit;

namespace PoIP.Network.Tests.Kademlia;

public sealed class KadChurnCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("poip-kad-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static KademliaOptions Options()
    {
        var o = new KademliaOptions { RequestsPerSecond = 1e9, RequestBurst = int.MaxValue };
        o.Namespaces.Add(new TestNamespace());
        return o;
    }

    [Fact]
    public async Task Read_AfterChurnAndAPut_RestoresEveryNodesTableRecordsAndClock()
    {
        var world = KadChurnWorld.Create(120, Options(), seed: 5);
        var publisher = world.Alive[0];
        world.Permanent.Add(publisher.Self);
        byte[] key = Encoding.ASCII.GetBytes("/test/checkpoint");
        var put = await publisher.PutValueAsync(key, new byte[] { 1, 2, 3 }, CancellationToken.None);
        Assert.True(put.Confirmed > 0);
        for (int i = 0; i < 3; i++)
        {
            await world.StepAsync(CancellationToken.None);
        }

        string path = Path.Combine(_dir, "world.ckpt");
        KadChurnCheckpoint.Write(path, world, "state 42");
        var (back, state) = KadChurnCheckpoint.Read(path, Options());

        Assert.Equal("state 42", state);
        Assert.Equal(world.Time.GetUtcNow(), back.Time.GetUtcNow());
        Assert.Equal(world.Time.GetTimestamp(), back.Time.GetTimestamp());
        Assert.Equal(world.Net.NextIndex, back.Net.NextIndex);
        Assert.Equal(world.Alive.Select(a => a.Self), back.Alive.Select(a => a.Self));
        Assert.Equal(world.Permanent, back.Permanent);
        int entries = 0;
        foreach (var (a, b) in world.Alive.Zip(back.Alive))
        {
            Assert.Equal(world.LeavesAt[a.Self], back.LeavesAt[b.Self]);
            Assert.Equal(world.Net.PeerOf(a).Addresses, back.Net.PeerOf(b).Addresses);
            var x = a.Snapshot();
            var y = b.Snapshot();
            Assert.Equal(x.Table.Select(e => (e.Peer.Peer, string.Join(' ', e.Peer.Addresses), e.Seen, e.Failures)), y.Table.Select(e => (e.Peer.Peer, string.Join(' ', e.Peer.Addresses), e.Seen, e.Failures)));
            Assert.Equal(x.Values.Select(v => (Convert.ToHexString(v.Key), Convert.ToHexString(v.Value), v.From, v.Received, v.LastPut)).Order(), y.Values.Select(v => (Convert.ToHexString(v.Key), Convert.ToHexString(v.Value), v.From, v.Received, v.LastPut)).Order());
            Assert.Equal(x.OwnValues.Select(v => Convert.ToHexString(v.Key)), y.OwnValues.Select(v => Convert.ToHexString(v.Key)));
            Assert.Equal(x.BootstrapPeers.Select(p => p.Peer), y.BootstrapPeers.Select(p => p.Peer));
            entries += x.Table.Count;
        }

        Assert.True(entries > 120 * 10, $"{entries} table entries: the world was not converged");
        Assert.Equal(world.Holders(key), back.Holders(key));

        // The restored world goes on: it churns, its upkeep runs and a publisher's republish reaches the holders.
        await back.StepAsync(CancellationToken.None);
        await back.Alive.Single(a => a.Self == publisher.Self).RepublishAsync(CancellationToken.None);
        var (_, success, _, _) = await back.LookupsAsync(back.Alive, 20, CancellationToken.None);
        Assert.Equal(1.0, success);
        Assert.True(back.Holders(key) >= 10, $"{back.Holders(key)} holders after the resumed step");
    }

    [Fact]
    public void Read_TruncatedOrEditedFile_RefusedWithClearError()
    {
        var world = KadChurnWorld.Create(40, Options(), seed: 6);
        string path = Path.Combine(_dir, "whole.ckpt");
        KadChurnCheckpoint.Write(path, world, "s");
        byte[] whole = File.ReadAllBytes(path);

        File.WriteAllBytes(path, whole[..(whole.Length / 2)]);
        var truncated = Assert.Throws<InvalidDataException>(() => KadChurnCheckpoint.Read(path, Options()));
        Assert.Contains("truncated or edited", truncated.Message, StringComparison.Ordinal);

        byte[] edited = (byte[])whole.Clone();
        edited[edited.Length / 3] ^= 0x10;
        File.WriteAllBytes(path, edited);
        Assert.Throws<InvalidDataException>(() => KadChurnCheckpoint.Read(path, Options()));
    }

    [Fact]
    public void Read_OtherVersionOrCountsPastTheEnd_RefusedBeforeAllocating()
    {
        var world = KadChurnWorld.Create(40, Options(), seed: 7);
        string path = Path.Combine(_dir, "v.ckpt");
        KadChurnCheckpoint.Write(path, world, "s");
        byte[] body = File.ReadAllBytes(path)[..^32];

        // Version: the int after the magic string (a 1-byte length and 14 ASCII bytes), re-sealed with a valid hash.
        byte[] v2 = (byte[])body.Clone();
        BitConverter.TryWriteBytes(v2.AsSpan(15, 4), 2);
        File.WriteAllBytes(path, [.. v2, .. SHA256.HashData(v2)]);
        var version = Assert.Throws<InvalidDataException>(() => KadChurnCheckpoint.Read(path, Options()));
        Assert.Contains("version 2", version.Message, StringComparison.Ordinal);

        // The peer-table count (after magic, version, state "s", clock, timestamp, next index, seed) set to 2^30.
        byte[] huge = (byte[])body.Clone();
        int countAt = 15 + 4 + 2 + 8 + 8 + 4 + 4;
        BitConverter.TryWriteBytes(huge.AsSpan(countAt, 4), 1 << 30);
        File.WriteAllBytes(path, [.. huge, .. SHA256.HashData(huge)]);
        var count = Assert.Throws<InvalidDataException>(() => KadChurnCheckpoint.Read(path, Options()));
        Assert.Contains("does not fit", count.Message, StringComparison.Ordinal);
    }

    private sealed class TestNamespace : IDhtRecordNamespace
    {
        public string Name => "test";

        public DhtRecordVerdict Validate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, DateTimeOffset now) => DhtRecordVerdict.Valid;

        public int SelectBest(ReadOnlySpan<byte> key, IReadOnlyList<ReadOnlyMemory<byte>> values) => 0;

        public byte[]? Merge(ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored, ReadOnlySpan<byte> incoming) => null;
    }
}

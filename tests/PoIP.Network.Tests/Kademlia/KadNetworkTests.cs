using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;
using PoIP.Core.Identity;
using PoIP.Network.Kademlia;
using PoIP.Network.Kademlia.Testing;
using PoIP.Network.Kademlia.Wire;
using Xunit;
using Record = PoIP.Network.Kademlia.Wire.Record;

namespace PoIP.Network.Tests.Kademlia;

public class KadNetworkTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    internal static KademliaOptions Options(Action<KademliaOptions>? configure = null)
    {
        var o = new KademliaOptions { RefreshInterval = TimeSpan.Zero, RequestsPerSecond = 1e6, RequestBurst = 1_000_000 };
        o.Namespaces.Add(new VersionNamespace());
        o.Namespaces.Add(new SetNamespace());
        configure?.Invoke(o);
        return o;
    }

    internal static async Task<List<KadNode>> BuildAsync(InMemoryKadNetwork net, int count, TimeProvider time, Action<KademliaOptions>? configure = null)
    {
        var nodes = Enumerable.Range(0, count).Select(_ => net.Add(Options(configure), time)).ToList();
        for (int i = 1; i < nodes.Count; i++)
        {
            await nodes[i].BootstrapAsync([net.PeerOf(nodes[0])], Ct);
        }

        foreach (var n in nodes)
        {
            await n.RefreshAsync(Ct);
        }

        return nodes;
    }

    private static byte[] Key(string text) => Encoding.ASCII.GetBytes(text);

    private static byte[] ModelKey(string seed) => [0x12, 0x20, .. SHA256.HashData(Encoding.ASCII.GetBytes(seed))];

    [Fact]
    public async Task PutValue_ThenGetFromAnotherPeer_FindsItWithAQuorum()
    {
        var net = new InMemoryKadNetwork();
        var nodes = await BuildAsync(net, 40, TimeProvider.System);
        var put = await nodes[3].PutValueAsync(Key("/test/a"), Key("v1"), Ct);
        Assert.Equal(20, put.Asked);
        Assert.Equal(20, put.Confirmed);
        Assert.True(put.StoredLocally);

        var values = await nodes[27].GetValuesAsync(Key("/test/a"), Ct);
        var value = Assert.Single(values);
        Assert.Equal("v1", Encoding.ASCII.GetString(value.Value.Span));
        Assert.True(value.From.Count >= 15, $"only {value.From.Count} holders answered");
    }

    [Fact]
    public async Task PutValue_AfterCutOffEmptiedTheTable_RejoinsThroughTheBootstrapPeerOnceHealed()
    {
        var net = new InMemoryKadNetwork();
        var nodes = await BuildAsync(net, 5, TimeProvider.System); // nodes[4] bootstrapped from nodes[0]
        var cut = nodes[4];
        foreach (var other in nodes.Take(4))
        {
            net.SetDown(other.Self, true);
        }

        var during = await cut.PutValueAsync(Key("/test/cut"), Key("v1"), Ct);
        Assert.Equal(0, during.Confirmed);
        Assert.Empty(cut.Table.Nearest(KadId.FromKey(Key("/test/cut")), 20)); // every peer failed while cut off: none left to ask

        foreach (var other in nodes.Take(4))
        {
            net.SetDown(other.Self, false);
        }

        var after = await cut.PutValueAsync(Key("/test/cut"), Key("v1"), Ct);
        Assert.True(after.Confirmed > 0, $"confirmed {after.Confirmed} of {after.Asked}"); // before the fix: an empty table, nobody to ask, ever
        Assert.Equal("v1", Encoding.ASCII.GetString(Assert.Single(await nodes[2].GetValuesAsync(Key("/test/cut"), Ct)).Value.Span));
    }

    [Fact]
    public async Task PutValue_WorseValueAfterBetter_NeverReplacesIt()
    {
        var net = new InMemoryKadNetwork();
        var nodes = await BuildAsync(net, 30, TimeProvider.System);
        byte[] key = Key("/test/b");
        var better = await nodes[1].PutValueAsync(key, Key("v5"), Ct);
        var now = TimeProvider.System.GetUtcNow();
        var holders = nodes.Where(n => n.Store.GetValue(key, now) is not null).ToList();
        Assert.Equal(better.Confirmed + 1, holders.Count);

        var worse = await nodes[2].PutValueAsync(key, Key("v3"), Ct);

        // Every holder of the better value refused the worse one (no echo) and still holds the better one;
        // only peers the first put did not reach (the two lookups may end at slightly different sets) took it.
        Assert.All(holders, h => Assert.Equal("v5", Encoding.ASCII.GetString(h.Store.GetValue(key, now)!.Value)));
        int tookWorse = nodes.Count(n => n != nodes[2] && n.Store.GetValue(key, now) is { } v && Encoding.ASCII.GetString(v.Value) == "v3");
        Assert.Equal(tookWorse, worse.Confirmed);
        Assert.True(worse.Confirmed <= nodes.Count - holders.Count);
    }

    [Fact]
    public async Task GetValues_PeersHoldingDifferentValues_ReturnsEveryDistinctOneAndOverwritesNobody()
    {
        var net = new InMemoryKadNetwork();
        var time = TimeProvider.System;
        var nodes = await BuildAsync(net, 25, time);
        byte[] key = Key("/test/c");
        var now = time.GetUtcNow();
        // The two peers closest to the key hold different values (one missed the newer put).
        var target = KadId.FromKey(key);
        var holders = nodes.Skip(1).OrderBy(n => KadId.FromKey(n.Self.Bytes).Xor(target)).Take(2).ToList();
        holders[0].Store.PutValue(new StoredValue(key, Key("v1"), holders[0].Self, now));
        holders[1].Store.PutValue(new StoredValue(key, Key("v2"), holders[1].Self, now));

        var values = await nodes[0].GetValuesAsync(key, Ct);
        Assert.Equal(["v1", "v2"], values.Select(v => Encoding.ASCII.GetString(v.Value.Span)).Order());
        Assert.Equal("v1", Encoding.ASCII.GetString(holders[0].Store.GetValue(key, now)!.Value)); // no read-path "correction"
    }

    [Fact]
    public async Task PutValue_MergingNamespace_KeepsBothConflictingRecords()
    {
        var net = new InMemoryKadNetwork();
        var nodes = await BuildAsync(net, 25, TimeProvider.System);
        await nodes[1].PutValueAsync(Key("/set/evidence"), Key("a"), Ct);
        await nodes[2].PutValueAsync(Key("/set/evidence"), Key("b"), Ct);
        var values = await nodes[20].GetValuesAsync(Key("/set/evidence"), Ct);
        Assert.Contains(values, v => Encoding.ASCII.GetString(v.Value.Span) == "a,b");
    }

    [Fact]
    public async Task RecordStored_AfterAPut_IsCalledWithTheStoredValue()
    {
        var net = new InMemoryKadNetwork();
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var nodes = await BuildAsync(net, 10, TimeProvider.System);
        var watcher = net.Add(Options(o => o.RecordStored = (k, v, _) =>
        {
            seen.TrySetResult(Encoding.ASCII.GetString(k.Span) + "=" + Encoding.ASCII.GetString(v.Span));
            throw new InvalidOperationException("a failing callback must not break storing");
        }), TimeProvider.System);
        await watcher.BootstrapAsync([net.PeerOf(nodes[0])], Ct);
        await watcher.HandleRequestPutAsync(nodes[1].Self, "/test/w", "v7");
        Assert.Equal("/test/w=v7", await seen.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.NotNull(watcher.Store.GetValue(Key("/test/w"), TimeProvider.System.GetUtcNow()));
    }

    [Fact]
    public async Task Provide_ThenFindProviders_FindsTheProviderWithAddresses()
    {
        var net = new InMemoryKadNetwork();
        var nodes = await BuildAsync(net, 40, TimeProvider.System);
        byte[] model = ModelKey("model");
        Assert.Equal(20, await nodes[7].ProvideAsync(model, Ct));
        var providers = await nodes[33].FindProvidersAsync(model, 10, Ct);
        var p = Assert.Single(providers);
        Assert.Equal(nodes[7].Self, p.Peer);
        Assert.NotEmpty(p.Addresses);
    }

    [Fact]
    public async Task FindPeer_PeerNotInTable_IsFoundByLookup()
    {
        var net = new InMemoryKadNetwork();
        var nodes = await BuildAsync(net, 60, TimeProvider.System);
        var asker = nodes.First(n => nodes.Any(m => m != n && !n.Table.Contains(m.Self)));
        var target = nodes.First(m => m != asker && !asker.Table.Contains(m.Self));
        var info = await asker.FindPeerAsync(target.Self, Ct);
        Assert.NotNull(info);
        Assert.Equal(target.Self, info.Peer);
    }

    [Fact]
    public async Task ClientModePeer_AfterQueries_NeverEntersRoutingTables()
    {
        var net = new InMemoryKadNetwork();
        var nodes = await BuildAsync(net, 15, TimeProvider.System);
        var client = net.Add(Options(o => o.Mode = DhtMode.Client), TimeProvider.System);
        await client.BootstrapAsync([net.PeerOf(nodes[0])], Ct);
        await client.PutValueAsync(Key("/test/client"), Key("v1"), Ct);
        Assert.True(client.Table.Count > 0);
        Assert.DoesNotContain(nodes, n => n.Table.Contains(client.Self));
        Assert.Equal(0, client.Store.ValueCount);
    }

    [Fact]
    public async Task Records_After48Hours_Expire()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var net = new InMemoryKadNetwork();
        var nodes = await BuildAsync(net, 10, time);
        await nodes[1].PutValueAsync(Key("/test/e"), Key("v1"), Ct);
        await nodes[1].ProvideAsync(ModelKey("e"), Ct);
        time.Advance(TimeSpan.FromHours(47));
        Assert.NotEmpty(await nodes[2].GetValuesAsync(Key("/test/e"), Ct));
        net.SetDown(nodes[1].Self, true); // the publisher is gone: nobody republishes
        time.Advance(TimeSpan.FromHours(1));
        Assert.Empty(await nodes[2].GetValuesAsync(Key("/test/e"), Ct));
        Assert.Empty(await nodes[2].FindProvidersAsync(ModelKey("e"), 5, Ct));
    }

    [Fact]
    public async Task Republish_Every22Hours_KeepsProviderRecordsAliveAfter48Hours()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var net = new InMemoryKadNetwork();
        var nodes = await BuildAsync(net, 10, time);
        await nodes[1].ProvideAsync(ModelKey("r"), Ct);
        for (int h = 0; h < 50; h++)
        {
            time.Advance(TimeSpan.FromHours(1));
            if (h % 22 == 21)
            {
                await nodes[1].RepublishAsync(Ct); // what the 22 h timer runs
            }
        }

        Assert.NotEmpty(await nodes[2].FindProvidersAsync(ModelKey("r"), 5, Ct));
    }

    [Fact]
    public void SqliteStore_Reopened_KeepsRecords()
    {
        string path = Path.Combine(Path.GetTempPath(), "poip-kad-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            var options = Options(o => o.DatabasePath = path);
            var now = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
            var from = InMemoryKadNetwork.RandomPeerId();
            using (var store = new KadRecordStore(options, new SqliteKadPersistence(path), now))
            {
                store.PutValue(new StoredValue(Key("/test/p"), Key("v9"), from, now));
                store.AddProvider(new StoredProvider(ModelKey("p"), from, [Addressing.Multiaddr.Parse("/ip4/1.2.3.4/tcp/5")], now));
            }

            using var reopened = new KadRecordStore(options, new SqliteKadPersistence(path), now.AddHours(1));
            Assert.Equal("v9", Encoding.ASCII.GetString(reopened.GetValue(Key("/test/p"), now.AddHours(1))!.Value));
            var provider = Assert.Single(reopened.GetProviders(ModelKey("p"), now.AddHours(1), 10));
            Assert.Equal("/ip4/1.2.3.4/tcp/5", provider.Addresses[0].ToString());
            using var expired = new KadRecordStore(options, new SqliteKadPersistence(path), now.AddHours(49));
            Assert.Equal(0, expired.ValueCount);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var f in new[] { path, path + "-wal", path + "-shm" })
            {
                File.Delete(f);
            }
        }
    }
}

internal static class KadNodeTestExtensions
{
    /// <summary>Delivers a PUT_VALUE from <paramref name="from"/> straight to the node's handler.</summary>
    public static Task HandleRequestPutAsync(this KadNode node, PeerId from, string key, string value)
    {
        var m = new Message
        {
            Type = Message.Types.MessageType.PutValue,
            Key = ByteString.CopyFromUtf8(key),
            Record = new Record { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) },
        };
        var r = node.HandleRequest(from, m);
        Assert.Null(r.Refusal);
        return Task.CompletedTask;
    }
}

public class KadRoutingUpkeepTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task AnsweringPeer_FullBucketWithADeadOldest_ReplacesTheDeadPeer()
    {
        var time = new FakeTimeProvider();
        var net = new InMemoryKadNetwork();
        var node = net.Add(KadNetworkTests.Options(o => (o.BucketSize, o.Resiliency) = (2, 1)), time);
        var local = node.Table.Local;
        var bucket0 = new List<KadNode>();
        while (bucket0.Count < 3)
        {
            var candidate = InMemoryKadNetwork.RandomPeerId();
            if (local.CommonPrefixLength(KadId.FromKey(candidate.Bytes)) == 0)
            {
                bucket0.Add(net.Add(KadNetworkTests.Options(), time, candidate));
            }
        }

        var ping = new Message { Type = Message.Types.MessageType.Ping };
        await node.RequestAsync(net.PeerOf(bucket0[0]), ping, expectReply: true, Ct);
        await node.RequestAsync(net.PeerOf(bucket0[1]), ping, expectReply: true, Ct);
        Assert.True(node.Table.Contains(bucket0[0].Self) && node.Table.Contains(bucket0[1].Self));

        // Within the liveness interval a newcomer is simply turned away (live old peers are kept).
        await node.RequestAsync(net.PeerOf(bucket0[2]), ping, expectReply: true, Ct);
        Assert.False(node.Table.Contains(bucket0[2].Self));

        // Later, with the oldest gone, the newcomer's answer triggers a check of the oldest, which fails.
        time.Advance(TimeSpan.FromMinutes(2));
        net.SetDown(bucket0[0].Self, true);
        await node.RequestAsync(net.PeerOf(bucket0[2]), ping, expectReply: true, Ct);
        Assert.False(node.Table.Contains(bucket0[0].Self));
        Assert.True(node.Table.Contains(bucket0[2].Self));
        Assert.True(node.Table.Contains(bucket0[1].Self));
    }

    [Fact]
    public async Task AnsweringPeer_FullBucketWithALiveOldest_KeepsTheOldest()
    {
        var time = new FakeTimeProvider();
        var net = new InMemoryKadNetwork();
        var node = net.Add(KadNetworkTests.Options(o => (o.BucketSize, o.Resiliency) = (1, 1)), time);
        var peers = new List<KadNode>();
        while (peers.Count < 2)
        {
            var candidate = InMemoryKadNetwork.RandomPeerId();
            if (node.Table.Local.CommonPrefixLength(KadId.FromKey(candidate.Bytes)) == 0)
            {
                peers.Add(net.Add(KadNetworkTests.Options(), time, candidate));
            }
        }

        var ping = new Message { Type = Message.Types.MessageType.Ping };
        await node.RequestAsync(net.PeerOf(peers[0]), ping, expectReply: true, Ct);
        time.Advance(TimeSpan.FromMinutes(2));
        await node.RequestAsync(net.PeerOf(peers[1]), ping, expectReply: true, Ct);
        Assert.True(node.Table.Contains(peers[0].Self));
        Assert.False(node.Table.Contains(peers[1].Self));
    }

    [Fact]
    public async Task Request_PeerGone_SuspectAtOnceAndGoneAfterTheLivenessCheck()
    {
        var net = new InMemoryKadNetwork();
        var a = net.Add(KadNetworkTests.Options(), TimeProvider.System);
        var b = net.Add(KadNetworkTests.Options(), TimeProvider.System);
        var ping = new Message { Type = Message.Types.MessageType.Ping };
        await a.RequestAsync(net.PeerOf(b), ping, expectReply: true, Ct);
        Assert.True(a.Table.Contains(b.Self));
        net.SetDown(b.Self, true);
        await Assert.ThrowsAsync<IOException>(() => a.RequestAsync(net.PeerOf(b), ping, expectReply: true, Ct));

        // One failure makes it a suspect: kept (a retry may succeed) but handed to no lookup and no reply.
        Assert.True(a.Table.Contains(b.Self));
        Assert.Empty(a.Table.Nearest(KadId.FromKey(b.Self.Bytes), 20));

        // The liveness check retries it once more and evicts it.
        Assert.Equal(1, await a.CheckPeersAsync(TimeSpan.FromMinutes(10), Ct));
        Assert.False(a.Table.Contains(b.Self));
    }

    [Fact]
    public async Task Request_PeerFailsOnceThenAnswers_StaysAndIsHandedOutAgain()
    {
        var net = new InMemoryKadNetwork();
        var a = net.Add(KadNetworkTests.Options(), TimeProvider.System);
        var b = net.Add(KadNetworkTests.Options(), TimeProvider.System);
        var ping = new Message { Type = Message.Types.MessageType.Ping };
        await a.RequestAsync(net.PeerOf(b), ping, expectReply: true, Ct);
        net.SetDown(b.Self, true);
        await Assert.ThrowsAsync<IOException>(() => a.RequestAsync(net.PeerOf(b), ping, expectReply: true, Ct));
        net.SetDown(b.Self, false);

        Assert.Equal(0, await a.CheckPeersAsync(TimeSpan.FromMinutes(10), Ct));

        Assert.True(a.Table.Contains(b.Self));
        Assert.Single(a.Table.Nearest(KadId.FromKey(b.Self.Bytes), 20));
    }
}

using System.Security.Cryptography;
using System.Text;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia;

namespace PoIP.Network.Kademlia.Testing;

/// <summary>
/// A <see cref="KadChurnWorld"/> written to a file between steps and read back, so that a churn simulation longer than
/// one sitting (24 simulated hours at N = 10,000: hours of CPU) runs in pieces. The file: a magic and version, the
/// caller's own state (<see cref="State"/>, opaque text, e.g. the benchmark's figures so far), the clock, every live
/// node (id, addresses, when it leaves, <see cref="KadNodeSnapshot"/>), the publishers, and a SHA-256 of all of it.
/// Peers are written once and referred to by index. A truncated, edited or other-version file is refused with a
/// <see cref="InvalidDataException"/> that says which; counts are checked against the bytes left before anything is
/// allocated.
/// </summary>
internal static class KadChurnCheckpoint
{
    private const string Magic = "POIP-KAD-CHURN";
    private const int Version = 1;

    /// <summary>Writes <paramref name="world"/> and <paramref name="state"/> to <paramref name="path"/> (a temporary file, then renamed over it).</summary>
    public static void Write(string path, KadChurnWorld world, string state)
    {
        var peers = new Dictionary<(PeerId, string), int>();
        var peerList = new List<KadPeer>();
        var nodes = world.Alive.Select(a => (Node: a, Snapshot: a.Snapshot())).ToList();
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(state);
            w.Write(world.Time.GetUtcNow().UtcTicks);
            w.Write(world.Time.GetTimestamp());
            w.Write(world.Net.NextIndex);
            w.Write(world.Seed);

            // Nodes refer to peers by index; the peer table is written after them, so collect first.
            using var nodeBytes = new MemoryStream();
            using (var nw = new BinaryWriter(nodeBytes, Encoding.UTF8, leaveOpen: true))
            {
                nw.Write(nodes.Count);
                foreach (var (node, s) in nodes)
                {
                    nw.Write(IndexOf(world.Net.PeerOf(node)));
                    nw.Write(world.LeavesAt[node.Self].UtcTicks);
                    nw.Write(world.Permanent.Contains(node.Self));
                    nw.Write(s.Table.Count);
                    foreach (var e in s.Table)
                    {
                        nw.Write(IndexOf(e.Peer));
                        nw.Write(e.Seen);
                        nw.Write(e.Failures);
                    }

                    nw.Write(s.Values.Count);
                    foreach (var v in s.Values)
                    {
                        WriteBytes(nw, v.Key);
                        WriteBytes(nw, v.Value);
                        WriteBytes(nw, v.From.Bytes);
                        nw.Write(v.Received.UtcTicks);
                        nw.Write(v.LastPut.UtcTicks);
                    }

                    nw.Write(s.Providers.Count);
                    foreach (var p in s.Providers)
                    {
                        WriteBytes(nw, p.Key);
                        nw.Write(IndexOf(new KadPeer(p.Provider, p.Addresses)));
                        nw.Write(p.Received.UtcTicks);
                    }

                    nw.Write(s.OwnValues.Count);
                    foreach (var (k, v) in s.OwnValues)
                    {
                        WriteBytes(nw, k);
                        WriteBytes(nw, v);
                    }

                    nw.Write(s.Provided.Count);
                    foreach (var k in s.Provided)
                    {
                        WriteBytes(nw, k);
                    }

                    nw.Write(s.BootstrapPeers.Count);
                    foreach (var b in s.BootstrapPeers)
                    {
                        nw.Write(IndexOf(b));
                    }
                }
            }

            w.Write(peerList.Count);
            foreach (var p in peerList)
            {
                WriteBytes(w, p.Peer.Bytes);
                w.Write(p.Addresses.Count);
                foreach (var a in p.Addresses)
                {
                    WriteBytes(w, a.ToBytes());
                }
            }

            w.Write(nodeBytes.ToArray());
        }

        byte[] hash = SHA256.HashData(body.GetBuffer().AsSpan(0, (int)body.Length));
        string temporary = path + ".tmp";
        using (var file = File.Create(temporary))
        {
            file.Write(body.GetBuffer(), 0, (int)body.Length);
            file.Write(hash);
        }

        File.Move(temporary, path, overwrite: true);

        int IndexOf(KadPeer peer)
        {
            var key = (peer.Peer, string.Join(' ', peer.Addresses));
            if (!peers.TryGetValue(key, out int i))
            {
                i = peerList.Count;
                peers[key] = i;
                peerList.Add(peer);
            }

            return i;
        }
    }

    /// <summary>Reads a checkpoint: the caller's state and a world of new nodes holding the saved state, on <paramref name="options"/>.</summary>
    /// <exception cref="InvalidDataException">The file is truncated, edited, or of another version.</exception>
    public static (KadChurnWorld World, string State) Read(string path, KademliaOptions options)
    {
        byte[] all = File.ReadAllBytes(path);
        if (all.Length < 32 || !SHA256.HashData(all.AsSpan(0, all.Length - 32)).AsSpan().SequenceEqual(all.AsSpan(all.Length - 32)))
        {
            throw new InvalidDataException($"{path} is not a whole checkpoint: its SHA-256 does not match (truncated or edited)");
        }

        using var r = new BinaryReader(new MemoryStream(all, 0, all.Length - 32, writable: false), Encoding.UTF8);
        try
        {
            if (r.ReadString() != Magic)
            {
                throw new InvalidDataException($"{path} is not a Kademlia churn checkpoint");
            }

            int version = r.ReadInt32();
            if (version != Version)
            {
                throw new InvalidDataException($"{path} is a version {version} checkpoint; this build reads version {Version}");
            }

            string state = r.ReadString();
            var now = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero);
            long timestamp = r.ReadInt64();
            int nextIndex = r.ReadInt32();
            int seed = r.ReadInt32();
            var world = KadChurnWorld.Empty(options, seed, now);
            if (world.Time.GetTimestamp() != timestamp)
            {
                throw new InvalidDataException("the restored clock's timestamps differ from the saved ones");
            }

            var peerTable = new KadPeer[Count(r, 2)];
            for (int i = 0; i < peerTable.Length; i++)
            {
                var id = PeerId.FromBytes(ReadBytes(r));
                var addresses = new Multiaddr[Count(r, 1)];
                for (int j = 0; j < addresses.Length; j++)
                {
                    addresses[j] = Multiaddr.FromBytes(ReadBytes(r));
                }

                peerTable[i] = new KadPeer(id, addresses);
            }

            int nodeCount = Count(r, 8);
            for (int n = 0; n < nodeCount; n++)
            {
                var self = Peer(r, peerTable);
                var leaves = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero);
                bool permanent = r.ReadBoolean();
                var table = new RoutingTableEntry[Count(r, 16)];
                for (int i = 0; i < table.Length; i++)
                {
                    table[i] = new RoutingTableEntry(Peer(r, peerTable), r.ReadInt64(), r.ReadInt32());
                }

                var values = new StoredValue[Count(r, 8)];
                for (int i = 0; i < values.Length; i++)
                {
                    byte[] key = ReadBytes(r);
                    byte[] value = ReadBytes(r);
                    var from = PeerId.FromBytes(ReadBytes(r));
                    var received = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero);
                    values[i] = new StoredValue(key, value, from, received) { LastPut = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero) };
                }

                var providers = new StoredProvider[Count(r, 8)];
                for (int i = 0; i < providers.Length; i++)
                {
                    byte[] key = ReadBytes(r);
                    var p = Peer(r, peerTable);
                    providers[i] = new StoredProvider(key, p.Peer, p.Addresses, new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero));
                }

                var own = new KeyValuePair<byte[], byte[]>[Count(r, 2)];
                for (int i = 0; i < own.Length; i++)
                {
                    own[i] = new(ReadBytes(r), ReadBytes(r));
                }

                var provided = new byte[Count(r, 1)][];
                for (int i = 0; i < provided.Length; i++)
                {
                    provided[i] = ReadBytes(r);
                }

                var bootstrap = new KadPeer[Count(r, 4)];
                for (int i = 0; i < bootstrap.Length; i++)
                {
                    bootstrap[i] = Peer(r, peerTable);
                }

                world.AddRestored(self, leaves, permanent, new KadNodeSnapshot(table, values, providers, own, provided, bootstrap));
            }

            world.Net.NextIndex = nextIndex; // after the restored nodes, which count as added
            if (r.BaseStream.Position != r.BaseStream.Length)
            {
                throw new InvalidDataException($"{path} has {r.BaseStream.Length - r.BaseStream.Position} bytes after its last node");
            }

            return (world, state);
        }
        catch (Exception ex) when (ex is EndOfStreamException or FormatException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException($"{path} cannot be read as a checkpoint: {ex.Message}", ex);
        }
    }

    private static void WriteBytes(BinaryWriter w, ReadOnlySpan<byte> bytes)
    {
        w.Write7BitEncodedInt(bytes.Length);
        w.Write(bytes);
    }

    private static byte[] ReadBytes(BinaryReader r)
    {
        int length = r.Read7BitEncodedInt();
        if (length < 0 || length > r.BaseStream.Length - r.BaseStream.Position)
        {
            throw new InvalidDataException($"a {length}-byte field runs past the end of the checkpoint");
        }

        return r.ReadBytes(length);
    }

    /// <summary>A count of items each at least <paramref name="minBytes"/> long, checked against what is left.</summary>
    private static int Count(BinaryReader r, int minBytes)
    {
        int count = r.ReadInt32();
        if (count < 0 || (long)count * minBytes > r.BaseStream.Length - r.BaseStream.Position)
        {
            throw new InvalidDataException($"a count of {count} does not fit in the checkpoint's remaining bytes");
        }

        return count;
    }

    private static KadPeer Peer(BinaryReader r, KadPeer[] table)
    {
        int i = r.ReadInt32();
        return (uint)i < (uint)table.Length ? table[i] : throw new InvalidDataException($"peer index {i} is outside the peer table ({table.Length})");
    }
}

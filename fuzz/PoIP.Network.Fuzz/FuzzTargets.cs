using System.Text;
using PoIP.Core.Encoding;
using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Internal;
using PoIP.Network.Multistream;
using PoIP.Network.Noise;
using PoIP.Network.Protocols;
using PoIP.Network.Yamux;

namespace PoIP.Network.Fuzz;

/// <summary>
/// Parser entry points for fuzzing. Each target feeds arbitrary bytes to one parser and returns
/// normally when the parser accepted or rejected them with a typed error (<see cref="PoIPException"/>);
/// any other exception escapes and is a finding. Shared by the fuzz harness and the unit-test smoke.
/// </summary>
internal static class FuzzTargets
{
    public static readonly Ed25519KeyPair Key = Ed25519KeyPair.FromSeed(new byte[32]);
    private static readonly NSec.Cryptography.Key StaticKey = NoiseHandshake.CreateStaticKey();
    private static readonly byte[] TransportKey = new byte[32];

    public static IReadOnlyList<(string Name, Func<byte[], string> Run, byte[][] Seeds)> All { get; } =
    [
        ("varint", Varint, [[0x00], [0x7f], [0x80, 0x01], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]]),
        ("multiaddr-binary", MultiaddrBinary, [Multiaddr.Parse("/ip4/127.0.0.1/tcp/4001").ToBytes(), Multiaddr.Parse("/ip6/::1/tcp/1/p2p/" + Key.PeerId).ToBytes(), Multiaddr.Parse("/dns4/example.com/tcp/443").ToBytes()]),
        ("multiaddr-text", MultiaddrText, [Encoding.UTF8.GetBytes("/ip4/127.0.0.1/tcp/4001/p2p/" + Key.PeerId), "/ip6/2001:db8::1/tcp/80"u8.ToArray(), "/dns6/a.b/tcp/1"u8.ToArray()]),
        ("multistream", Multistream, [MultistreamMessages("/multistream/1.0.0", "/ipfs/ping/1.0.0"), MultistreamMessages("/multistream/1.0.0", "ls", "/x", "/noise")]),
        ("noise-payload", NoisePayloadTarget, [new NoisePayload(Key.PublicKey.ToProtobuf(), new byte[64], ["/yamux/1.0.0"]).Encode()]),
        ("noise-handshake", NoiseResponder, [NoiseSeed()]),
        ("noise-transport", NoiseTransport, [TransportSeed()]),
        ("yamux-frames", YamuxFrames, [YamuxSeed()]),
        ("yamux-noise", YamuxOverNoise, [YamuxSeed(), BulkYamuxSeed()]),
        ("identify", Identify, [IdentifyCodec.Encode(Key.PublicKey, "ipfs/0.1.0", "poip", ["/ipfs/id/1.0.0"], [Multiaddr.Parse("/ip4/1.2.3.4/tcp/1")], null)]),
    ];

    public static string Varint(byte[] data)
    {
        var status = UnsignedVarint.TryRead(data, out ulong value, out int read);
        if (status == UnsignedVarint.ReadStatus.Ok)
        {
            Span<byte> back = stackalloc byte[UnsignedVarint.MaxLength];
            int n = UnsignedVarint.Write(back, value);
            if (n != read || !back[..n].SequenceEqual(data.AsSpan(0, read)))
            {
                throw new InvalidOperationException("varint does not round-trip");
            }
        }

        return status.ToString() + read;
    }

    public static string MultiaddrBinary(byte[] data)
    {
        try
        {
            var ma = Multiaddr.FromBytes(data);
            if (!Multiaddr.Parse(ma.ToString()).Equals(ma) || !ma.ToBytes().AsSpan().SequenceEqual(data))
            {
                throw new InvalidOperationException("multiaddr does not round-trip");
            }

            return "ok" + ma.Components.Count;
        }
        catch (PoIPDecodeException ex)
        {
            return ex.Code;
        }
    }

    public static string MultiaddrText(byte[] data)
    {
        try
        {
            var ma = Multiaddr.Parse(Encoding.UTF8.GetString(data));
            if (!Multiaddr.FromBytes(ma.ToBytes()).Equals(ma))
            {
                throw new InvalidOperationException("multiaddr does not round-trip");
            }

            return "ok" + ma.Components.Count;
        }
        catch (PoIPDecodeException ex)
        {
            return ex.Code;
        }
    }

    public static string Multistream(byte[] data)
    {
        using var stream = new ScriptedStream(data);
        try
        {
            return MultistreamSelect.ListenAsync(stream, p => p == "/noise", default).GetAwaiter().GetResult();
        }
        catch (PoIPException ex)
        {
            return ex.Code + ":" + ex.Message.Split(':')[0];
        }
    }

    public static string NoisePayloadTarget(byte[] data)
    {
        try
        {
            return "ok" + NoisePayload.Decode(data).StreamMuxers.Count;
        }
        catch (PoIPException ex)
        {
            return ex.Code + ":" + ex.Message.Split(':')[0];
        }
    }

    public static string NoiseResponder(byte[] data)
    {
        using var stream = new ScriptedStream(data);
        try
        {
            NoiseHandshake.RespondAsync(stream, StaticKey, Key, ["/yamux/1.0.0"], default).GetAwaiter().GetResult();
            return "ok";
        }
        catch (PoIPException ex)
        {
            return ex.Code + ":" + ex.Message.Split(':')[0];
        }
    }

    public static string YamuxFrames(byte[] data) => RunYamuxSession(new PlainFrameTransport(new ScriptedStream(data)), _ => 64);

    /// <summary>
    /// A whole session over the Noise transport: the input is Yamux plaintext, encrypted here into
    /// Noise frames of sizes drawn from the input's length (so frame and Yamux boundaries fall anywhere).
    /// Handlers read with buffers of 64 B, 70 KB or 200 KB, so frames go both to receive segments and,
    /// when a reader is parked with room, straight into its buffer.
    /// </summary>
    public static string YamuxOverNoise(byte[] data)
    {
        // Reads of at most 40,000 bytes, each after a thread-pool yield: frames arrive in parts, and
        // handlers get to park between reads (so the in-place path runs, not only the segment path).
        var script = new ScriptedStream(EncryptIntoFrames(data), maxRead: 40_000, yieldEachRead: true);
        var secure = new NoiseSecureStream(script, new NoiseCipher(TransportKey), new NoiseCipher(TransportKey));
        return RunYamuxSession(secure, id => (id % 3) switch { 0 => 64, 1 => 70_000, _ => 200_000 });
    }

    /// <summary>Runs a listener session over <paramref name="transport"/> whose handlers drain every stream with a buffer of <paramref name="bufferFor"/>(stream id) bytes; returns how it ended.</summary>
    private static string RunYamuxSession(IFrameTransport transport, Func<uint, int> bufferFor)
    {
        var options = new YamuxOptions { KeepAliveInterval = TimeSpan.Zero, MaxInboundStreams = 8, MaxBufferedBytes = 1 << 20, MaxPendingControlFrames = 64 };
        var session = new YamuxSession(transport, isClient: false, options, async s =>
        {
            var buffer = new byte[bufferFor(s.Id)];
            while (await s.ReadAsync(buffer).ConfigureAwait(false) > 0)
            {
            }
        });
        session.Start();
        try
        {
            session.Completion.GetAwaiter().GetResult();
            return "clean:" + session.StreamCount;
        }
        catch (PoIPException ex)
        {
            return ex.Code + ":" + ex.Message.Split(':')[0];
        }
        catch (ObjectDisposedException)
        {
            return "disposed";
        }
    }

    private static byte[] EncryptIntoFrames(byte[] plaintext)
    {
        using var cipher = new NoiseCipher(TransportKey);
        var random = new Random(plaintext.Length);
        var wire = new List<byte>(plaintext.Length + 64);
        var frame = new byte[NoiseSecureStream.MaxFrameLength];
        for (int offset = 0; offset < plaintext.Length;)
        {
            int size = random.Next(4) switch { 0 => 12, 1 => random.Next(1, 64), 2 => NoiseSecureStream.MaxPlaintext, _ => random.Next(1, NoiseSecureStream.MaxPlaintext + 1) };
            size = Math.Min(size, plaintext.Length - offset);
            cipher.Encrypt(plaintext.AsSpan(offset, size), frame, default);
            wire.Add((byte)((size + NoiseCipher.TagLength) >> 8));
            wire.Add((byte)(size + NoiseCipher.TagLength));
            wire.AddRange(frame.AsSpan(0, size + NoiseCipher.TagLength));
            offset += size;
        }

        return [.. wire];
    }

    /// <summary>Transport frames (length + ciphertext) against fixed keys: almost all fail authentication, none may crash.</summary>
    public static string NoiseTransport(byte[] data)
    {
        using var secure = new NoiseSecureStream(new ScriptedStream(data), new NoiseCipher(TransportKey), new NoiseCipher(TransportKey));
        var buffer = new byte[70000];
        try
        {
            int total = 0, n;
            while ((n = secure.ReadAsync(buffer).AsTask().GetAwaiter().GetResult()) > 0)
            {
                total += n;
            }

            return "ok" + (total > 0);
        }
        catch (PoIPException ex)
        {
            return ex.Code + ":" + ex.Message.Split(':')[0];
        }
    }

    public static string Identify(byte[] data)
    {
        try
        {
            return "ok" + IdentifyCodec.Decode(data, Key.PeerId).Protocols.Count;
        }
        catch (PoIPException ex)
        {
            return ex.Code + ":" + ex.Message.Split(':')[0];
        }
    }

    private static byte[] MultistreamMessages(params string[] messages)
    {
        var buffer = new byte[4096];
        int n = 0;
        foreach (var m in messages)
        {
            n += MultistreamSelect.Encode(buffer.AsSpan(n), m);
        }

        return buffer[..n];
    }

    private static byte[] NoiseSeed()
    {
        // A real initiator's first message (32-byte ephemeral) framed, then a plausible message 3 shape.
        var seed = new byte[2 + 32 + 2 + 48 + 16 + 100];
        seed[1] = 32;
        new Random(1).NextBytes(seed.AsSpan(2, 32));
        seed[34] = 0;
        seed[35] = 48 + 16 + 100;
        return seed;
    }

    private static byte[] TransportSeed()
    {
        var sink = new MemoryStream();
        using (var writer = new NoiseSecureStream(sink, new NoiseCipher(TransportKey), new NoiseCipher(TransportKey)))
        {
            writer.WriteAsync("hello noise"u8.ToArray()).AsTask().GetAwaiter().GetResult();
            return sink.ToArray();
        }
    }

    /// <summary>Two streams (one per buffer size class) with bulk data frames, then FIN on both.</summary>
    private static byte[] BulkYamuxSeed()
    {
        var frames = new List<byte>();
        void Add(YamuxHeader h, int payload)
        {
            var b = new byte[12];
            h.Write(b);
            frames.AddRange(b);
            frames.AddRange(new byte[payload]);
        }

        foreach (uint id in new uint[] { 1, 5 })
        {
            Add(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Syn, id, 0), 0);
        }

        for (int i = 0; i < 3; i++)
        {
            Add(new YamuxHeader(YamuxType.Data, YamuxFlags.None, 1, YamuxSession.MaxFrameData), YamuxSession.MaxFrameData);
            Add(new YamuxHeader(YamuxType.Data, YamuxFlags.None, 5, 30_000), 30_000);
        }

        Add(new YamuxHeader(YamuxType.Data, YamuxFlags.Fin, 1, 0), 0);
        Add(new YamuxHeader(YamuxType.Data, YamuxFlags.Fin, 5, 0), 0);
        return [.. frames];
    }

    private static byte[] YamuxSeed()
    {
        var frames = new List<byte>();
        void Add(YamuxHeader h, byte[] payload)
        {
            var b = new byte[12];
            h.Write(b);
            frames.AddRange(b);
            frames.AddRange(payload);
        }

        Add(new YamuxHeader(YamuxType.Ping, YamuxFlags.Syn, 0, 7), []);
        Add(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Syn, 1, 0), []);
        Add(new YamuxHeader(YamuxType.Data, YamuxFlags.None, 1, 5), "hello"u8.ToArray());
        Add(new YamuxHeader(YamuxType.Data, YamuxFlags.Fin, 1, 0), []);
        Add(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Syn, 3, 100), []);
        Add(new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Rst, 3, 0), []);
        Add(new YamuxHeader(YamuxType.GoAway, YamuxFlags.None, 0, 0), []);
        return [.. frames];
    }
}

/// <summary>A stream that reads a fixed script and swallows writes.</summary>
internal sealed class ScriptedStream(byte[] script, int maxRead = int.MaxValue, bool yieldEachRead = false) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => script.Length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(Math.Min(buffer.Length, maxRead), script.Length - _position);
        script.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        yieldEachRead ? ReadAfterYieldAsync(buffer) : new(Read(buffer.Span));

    private async ValueTask<int> ReadAfterYieldAsync(Memory<byte> buffer)
    {
        await Task.Yield();
        return Read(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Write(byte[] buffer, int offset, int count)
    {
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

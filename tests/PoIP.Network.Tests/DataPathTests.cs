using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Threading.Channels;
using PoIP.Network.Noise;
using PoIP.Network.Yamux;
using Xunit.Abstractions;

namespace PoIP.Network.Tests;

/// <summary>
/// The bulk data path of Yamux over Noise: frames decrypted straight into a waiting reader's buffer,
/// the fallback to receive segments, cancellation racing with that, and the Noise buffered reads under it.
/// Everything runs over in-memory pipes, where a Noise write becomes visible to the reader all at once,
/// so which path a frame takes is decided by the test, not by timing.
/// </summary>
public sealed class DataPathTests(ITestOutputHelper output)
{
    private static readonly byte[] KeyAb = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] KeyBa = RandomNumberGenerator.GetBytes(32);

    private sealed class Pair : IAsyncDisposable
    {
        public required YamuxSession Client { get; init; }
        public required YamuxSession Server { get; init; }
        public required Channel<Libp2pStream> ServerInbound { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
        }
    }

    private static Pair CreatePair()
    {
        var (a, b) = DuplexStream.CreatePair();
        var options = new YamuxOptions { KeepAliveInterval = TimeSpan.Zero, MaxStreamWindow = 16 * 1024 * 1024 };
        var inbound = Channel.CreateUnbounded<Libp2pStream>();
        var client = new YamuxSession(new NoiseSecureStream(a, new NoiseCipher(KeyAb), new NoiseCipher(KeyBa)), isClient: true, options, _ => Task.CompletedTask);
        var server = new YamuxSession(new NoiseSecureStream(b, new NoiseCipher(KeyBa), new NoiseCipher(KeyAb)), isClient: false, options, s => inbound.Writer.WriteAsync(s).AsTask());
        client.Start();
        server.Start();
        return new Pair { Client = client, Server = server, ServerInbound = inbound };
    }

    /// <summary>
    /// Opens a stream and waits until the server has accepted it (the SYN travels with a first byte,
    /// read here), then sends one bulk batch through it, so that both ends' Noise buffers have grown to
    /// their bulk sizes (they start small). Returns the in-place count after that warm-up.
    /// </summary>
    private static async Task<(Libp2pStream Out, Libp2pStream In, long InPlace)> OpenAsync(Pair p)
    {
        var outbound = p.Client.OpenStream();
        await outbound.WriteAsync(new byte[] { 42 });
        var inbound = await p.ServerInbound.Reader.ReadAsync();
        var one = new byte[1];
        Assert.Equal(1, await inbound.ReadAsync(one));
        var warm = new byte[4 * YamuxSession.MaxFrameData];
        await outbound.WriteAsync(warm);
        await inbound.ReadExactlyAsync(warm);
        return (outbound, inbound, p.Server.FramesDecryptedInPlace);
    }

    /// <summary>Yields until the stream's reader is parked on its signal (a state, not a time).</summary>
    private static async Task WhenReaderWaitsAsync(Libp2pStream stream)
    {
        while (!stream.IsReaderWaiting)
        {
            await Task.Yield();
        }
    }

    [Fact]
    public async Task Read_ReaderWaitsWithRoom_SeveralFramesDecryptedInPlaceInOneRead()
    {
        await using var p = CreatePair();
        var (outbound, inbound, inPlace) = await OpenAsync(p);
        var data = RandomNumberGenerator.GetBytes(3 * YamuxSession.MaxFrameData);
        var buffer = new byte[1024 * 1024];
        var read = inbound.ReadAsync(buffer).AsTask();
        await WhenReaderWaitsAsync(inbound);

        await outbound.WriteAsync(data); // one Noise write: the reader's side sees all three frames at once

        Assert.Equal(data.Length, await read);
        Assert.Equal(data, buffer.AsSpan(0, data.Length).ToArray());
        Assert.Equal(3, p.Server.FramesDecryptedInPlace - inPlace);
    }

    [Fact]
    public async Task Read_FrameDoesNotFitReaderBuffer_GoesToSegmentAndNextReadGetsIt()
    {
        await using var p = CreatePair();
        var (outbound, inbound, inPlace) = await OpenAsync(p);
        var data = RandomNumberGenerator.GetBytes(3 * YamuxSession.MaxFrameData);
        var buffer = new byte[(2 * YamuxSession.MaxFrameData) + 100];
        var read = inbound.ReadAsync(buffer).AsTask();
        await WhenReaderWaitsAsync(inbound);

        await outbound.WriteAsync(data);

        Assert.Equal(2 * YamuxSession.MaxFrameData, await read); // two in place, the third did not fit
        Assert.Equal(2, p.Server.FramesDecryptedInPlace - inPlace);
        var rest = new byte[YamuxSession.MaxFrameData];
        await inbound.ReadExactlyAsync(rest);
        byte[] got = [.. buffer.AsSpan(0, 2 * YamuxSession.MaxFrameData), .. rest];
        Assert.Equal(data, got);
    }

    [Fact]
    public async Task Read_SmallReaderBuffer_UsesSegmentsAndKeepsOrder()
    {
        await using var p = CreatePair();
        var (outbound, inbound, inPlace) = await OpenAsync(p);
        var data = RandomNumberGenerator.GetBytes(5 * YamuxSession.MaxFrameData + 12345);
        var writing = outbound.WriteAsync(data).AsTask();
        var got = new MemoryStream();
        var small = new byte[1000];
        while (got.Length < data.Length)
        {
            int n = await inbound.ReadAsync(small);
            Assert.True(n > 0);
            got.Write(small, 0, n);
        }

        await writing;
        Assert.Equal(data, got.ToArray());
        Assert.Equal(0, p.Server.FramesDecryptedInPlace - inPlace);
    }

    [Fact]
    public async Task Read_CancelledWhileDataFlows_LosesAndCorruptsNothing()
    {
        await using var p = CreatePair();
        var (outbound, inbound, inPlace) = await OpenAsync(p);
        var data = RandomNumberGenerator.GetBytes(2000 * YamuxSession.MaxFrameData);
        long received = 0;

        // The writer sends one frame at a time and stays at most two frames ahead of the reader, so the
        // reader keeps running dry and parks: frames then arrive while it waits, and get decrypted into
        // its buffer while a cancellation may be on its way.
        var writing = Task.Run(async () =>
        {
            for (int offset = 0; offset < data.Length; offset += YamuxSession.MaxFrameData)
            {
                while (Volatile.Read(ref received) < offset - (2 * YamuxSession.MaxFrameData))
                {
                    await Task.Yield();
                }

                await outbound.WriteAsync(data.AsMemory(offset, YamuxSession.MaxFrameData));
            }

            await outbound.CompleteWritingAsync();
        });

        // Every third read races with a cancellation from another thread (the others are not cancelled,
        // so the reader is often parked when frames arrive and gets them decrypted in place): a read
        // either gets its bytes or is cancelled having taken none, never loses or scrambles any. The
        // claim-versus-cancel protocol itself is pinned deterministically in AsyncSignal_* below.
        var got = new byte[data.Length + (300 * 1024)];
        int cancelled = 0;
        for (int iteration = 0; ; iteration++)
        {
            using var cts = new CancellationTokenSource();
            var cancel = iteration % 3 == 0 ? Task.Run(cts.Cancel) : Task.CompletedTask;
            int n;
            try
            {
                n = await inbound.ReadAsync(got.AsMemory((int)received, 300 * 1024), cts.Token);
            }
            catch (OperationCanceledException)
            {
                cancelled++;
                await cancel;
                continue;
            }

            await cancel;
            if (n == 0)
            {
                break;
            }

            Volatile.Write(ref received, received + n);
        }

        await writing;
        output.WriteLine($"{cancelled} reads cancelled, {p.Server.FramesDecryptedInPlace - inPlace} frames decrypted in place"); // how often each race ran (not asserted: it depends on scheduling)
        Assert.Equal(data.Length, received);
        Assert.True(data.AsSpan().SequenceEqual(got.AsSpan(0, data.Length)));
    }

    [Fact]
    public async Task AsyncSignal_CancelAfterClaim_IsIgnoredAndWaitCompletesOnClaimCompletion()
    {
        var signal = new Internal.AsyncSignal();
        using var cts = new CancellationTokenSource();
        signal.Arm();
        var wait = signal.WaitAsync(cts.Token);
        Assert.True(signal.TryClaim());
        Assert.False(signal.IsArmed);
        await cts.CancelAsync();
        signal.Set(); // neither a cancellation nor a plain Set completes a claimed wait
        Assert.False(wait.IsCompleted);
        signal.CompleteClaim();
        await wait; // completes normally: the claimer has filled the waiter's buffer
    }

    [Fact]
    public async Task AsyncSignal_CancelBeforeClaim_WinsAndClaimFails()
    {
        var signal = new Internal.AsyncSignal();
        using var cts = new CancellationTokenSource();
        signal.Arm();
        var wait = signal.WaitAsync(cts.Token);
        await cts.CancelAsync();
        Assert.False(signal.TryClaim()); // the waiter has gone: its buffer must not be written
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);
        signal.CompleteClaim(); // nothing claimed: no effect
        signal.Arm(); // reusable
        Assert.True(signal.TryClaim());
        signal.CompleteClaim();
    }

    [Fact]
    public async Task Noise_Buffers_StaySmallForSmallMessagesAndGrowForBulk()
    {
        var (a, b) = DuplexStream.CreatePair();
        using var sa = new NoiseSecureStream(a, new NoiseCipher(KeyAb), new NoiseCipher(KeyBa));
        using var sb = new NoiseSecureStream(b, new NoiseCipher(KeyBa), new NoiseCipher(KeyAb));
        int small = sa.BufferBytes;
        Assert.Equal(small, sb.BufferBytes);
        var message = RandomNumberGenerator.GetBytes(60_000);
        var got = new byte[message.Length];
        for (int i = 0; i < 20; i++)
        {
            await sa.WriteAsync(message);
            await sb.ReadExactlyAsync(got);
        }

        Assert.Equal(small, sa.BufferBytes);
        Assert.Equal(small, sb.BufferBytes);

        var bulk = RandomNumberGenerator.GetBytes(600_000);
        var bulkGot = new byte[bulk.Length];
        await sa.WriteAsync(bulk); // more than one frame's room: the write buffer grows to a batch
        await sb.ReadExactlyAsync(bulkGot); // a read fills the two-frame buffer: it grows to four frames
        Assert.Equal(bulk, bulkGot);
        Assert.True(sa.BufferBytes > small, "the writer's buffer did not grow");
        Assert.True(sb.BufferBytes > small, "the reader's buffer did not grow");
        Assert.True(sa.BufferBytes < 640 * 1024);
    }

    private static byte[] Frame(NoiseCipher cipher, ReadOnlySpan<byte> plaintext)
    {
        var frame = new byte[2 + plaintext.Length + NoiseCipher.TagLength];
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)(plaintext.Length + NoiseCipher.TagLength));
        cipher.Encrypt(plaintext, frame.AsSpan(2), default);
        return frame;
    }

    [Fact]
    public async Task Noise_EmptyFrame_IsSkippedNotReadAsEndOfStream()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        using var send = new NoiseCipher(key);
        var (a, b) = DuplexStream.CreatePair();
        await a.WriteAsync((byte[])[.. Frame(send, []), .. Frame(send, "hello"u8)]);
        using var secure = new NoiseSecureStream(b, new NoiseCipher(key), new NoiseCipher(key));
        var buffer = new byte[16];
        Assert.Equal(5, await secure.ReadAsync(buffer));
        Assert.Equal("hello"u8.ToArray(), buffer[..5]);
    }

    [Fact]
    public async Task Noise_HasBuffered_CountsOnlyWholeFramesAndReadBufferedTakesExactly()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        using var send = new NoiseCipher(key);
        var (a, b) = DuplexStream.CreatePair();
        var first = Frame(send, "0123456789"u8);
        var second = Frame(send, "abcdef"u8);
        using var secure = new NoiseSecureStream(b, new NoiseCipher(key), new NoiseCipher(key));
        await a.WriteAsync((byte[])[.. first, .. second[..5]]); // the second frame only in part
        var two = new byte[2];
        await secure.ReadExactlyAsync(two); // buffers what has arrived; the first frame's rest is kept decrypted
        Assert.Equal("01"u8.ToArray(), two);

        Assert.True(secure.HasBuffered(8));
        Assert.False(secure.HasBuffered(9)); // the partial second frame does not count
        var eight = new byte[8];
        secure.ReadBuffered(eight);
        Assert.Equal("23456789"u8.ToArray(), eight);
        Assert.False(secure.HasBuffered(1));
        Assert.Throws<InvalidOperationException>(() => secure.ReadBuffered(new byte[1]));

        await a.WriteAsync(second.AsMemory(5));
        var six = new byte[6];
        await secure.ReadExactlyAsync(six);
        Assert.Equal("abcdef"u8.ToArray(), six);
    }
}

using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace PoIP.Benchmarks.Network;

/// <summary>
/// What the machine allows a single encrypted stream over loopback, without libp2p: (1) plain TCP,
/// 256 KiB socket writes, one sending and one receiving task; (2) the same carrying Noise-sized
/// ChaCha20-Poly1305 frames (65,535 bytes, encrypted by the sender, decrypted by the receiver, no
/// Yamux, no copies but the kernel's); (3) the AEAD's own cost per GiB (encrypt plus decrypt, one
/// thread). (2) is the ceiling for the libp2p stack on this machine; the gap between it and C# to C#
/// is what Yamux, the streams and their scheduling cost.
/// </summary>
internal static class LoopbackFloor
{
    private const int Plain = 65519;
    private const int Frame = 2 + Plain + 16;
    private const int FramesPerWrite = 4;

    public readonly record struct Figure(double Gbit, double CpuPerGib);

    public static async Task<(Figure Tcp, Figure TcpAead, double AeadCpuPerGib)> MeasureAsync(long bytes, CancellationToken ct)
    {
        var tcp = await RunAsync(bytes, aead: false, ct);
        var tcpAead = await RunAsync(bytes, aead: true, ct);
        return (tcp, tcpAead, AeadCostPerGib());
    }

    private static double AeadCostPerGib()
    {
        using var aead = new ChaCha20Poly1305(RandomNumberGenerator.GetBytes(32));
        var plain = new byte[Plain];
        var cipher = new byte[Plain];
        var tag = new byte[16];
        var nonce = new byte[12];
        const int Rounds = 4096; // 256 MiB each way
        for (int i = 0; i < 100; i++)
        {
            aead.Encrypt(nonce, plain, cipher, tag);
            aead.Decrypt(nonce, cipher, tag, plain);
        }

        var sw = Stopwatch.StartNew();
        for (int i = 0; i < Rounds; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(nonce.AsSpan(4), (ulong)i);
            aead.Encrypt(nonce, plain, cipher, tag);
            aead.Decrypt(nonce, cipher, tag, plain);
        }

        return sw.Elapsed.TotalSeconds / (Rounds * (double)Plain / (1L << 30));
    }

    private static async Task<Figure> RunAsync(long bytes, bool aead, CancellationToken ct)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(listener.LocalEndPoint!, ct);
        using var server = await listener.AcceptAsync(ct);
        server.NoDelay = true;
        byte[] key = RandomNumberGenerator.GetBytes(32);

        await Task.WhenAll(SendAsync(client, key, 64L << 20, aead, ct), ReceiveAsync(server, key, 64L << 20, aead, ct)); // warm-up
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu0 = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(SendAsync(client, key, bytes, aead, ct), ReceiveAsync(server, key, bytes, aead, ct));
        sw.Stop();
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpu0;
        long writes = bytes / (FramesPerWrite * Frame);
        long payload = writes * FramesPerWrite * (aead ? Plain : Frame);
        return new Figure(payload * 8 / sw.Elapsed.TotalSeconds / 1e9, cpu.TotalSeconds / (payload / (double)(1L << 30)));
    }

    private static async Task SendAsync(Socket socket, byte[] key, long bytes, bool aead, CancellationToken ct)
    {
        await Task.Yield();
        using var cipher = new ChaCha20Poly1305(key);
        var source = new byte[Plain];
        var buffer = new byte[FramesPerWrite * Frame];
        var nonce = new byte[12];
        ulong counter = 0;
        for (long sent = 0; sent + buffer.Length <= bytes; sent += buffer.Length)
        {
            if (aead)
            {
                for (int f = 0, offset = 0; f < FramesPerWrite; f++, offset += Frame)
                {
                    BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(offset), Frame - 2);
                    BinaryPrimitives.WriteUInt64LittleEndian(nonce.AsSpan(4), counter++);
                    cipher.Encrypt(nonce, source, buffer.AsSpan(offset + 2, Plain), buffer.AsSpan(offset + 2 + Plain, 16));
                }
            }

            for (int offset = 0; offset < buffer.Length;)
            {
                offset += await socket.SendAsync(buffer.AsMemory(offset), SocketFlags.None, ct);
            }
        }
    }

    private static async Task ReceiveAsync(Socket socket, byte[] key, long bytes, bool aead, CancellationToken ct)
    {
        await Task.Yield();
        using var cipher = new ChaCha20Poly1305(key);
        var buffer = new byte[(FramesPerWrite + 1) * Frame];
        var destination = new byte[Plain];
        var nonce = new byte[12];
        ulong counter = 0;
        long expected = bytes / (FramesPerWrite * Frame) * (FramesPerWrite * Frame);
        int start = 0, end = 0;
        for (long received = 0; received < expected;)
        {
            if (buffer.Length - end < Frame)
            {
                Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }

            int n = await socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, ct);
            if (n == 0)
            {
                throw new EndOfStreamException("loopback floor: peer closed early");
            }

            received += n;
            end += n;
            while (end - start >= Frame)
            {
                if (aead)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(nonce.AsSpan(4), counter++);
                    cipher.Decrypt(nonce, buffer.AsSpan(start + 2, Plain), buffer.AsSpan(start + 2 + Plain, 16), destination);
                }

                start += Frame;
            }

            if (start == end)
            {
                start = end = 0;
            }
        }
    }
}

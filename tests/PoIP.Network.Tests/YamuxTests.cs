using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Threading.Channels;
using PoIP.Network.Internal;
using PoIP.Network.Yamux;

namespace PoIP.Network.Tests;

public sealed class YamuxTests
{
    private sealed class Pair : IAsyncDisposable
    {
        public required YamuxSession Client { get; init; }
        public required YamuxSession Server { get; init; }
        public required Channel<Libp2pStream> ServerInbound { get; init; }
        public required Channel<Libp2pStream> ClientInbound { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
        }
    }

    private static Pair CreatePair(YamuxOptions? options = null)
    {
        var (a, b) = DuplexStream.CreatePair();
        var opts = options ?? new YamuxOptions { KeepAliveInterval = TimeSpan.Zero };
        var serverInbound = Channel.CreateUnbounded<Libp2pStream>();
        var clientInbound = Channel.CreateUnbounded<Libp2pStream>();
        var client = new YamuxSession(new PlainFrameTransport(a), isClient: true, opts, s => clientInbound.Writer.WriteAsync(s).AsTask());
        var server = new YamuxSession(new PlainFrameTransport(b), isClient: false, opts, s => serverInbound.Writer.WriteAsync(s).AsTask());
        client.Start();
        server.Start();
        return new Pair { Client = client, Server = server, ServerInbound = serverInbound, ClientInbound = clientInbound };
    }

    private static async Task<byte[]> ReadToEndAsync(Stream s)
    {
        var ms = new MemoryStream();
        await s.CopyToAsync(ms);
        return ms.ToArray();
    }

    [Fact]
    public async Task OpenStream_BothDirections_DataAndHalfCloseDelivered()
    {
        await using var p = CreatePair();
        var outbound = p.Client.OpenStream();
        Assert.Equal(1u, outbound.Id);
        await outbound.WriteAsync("hello"u8.ToArray());
        await outbound.CompleteWritingAsync();
        var inbound = await p.ServerInbound.Reader.ReadAsync();
        Assert.Equal("hello"u8.ToArray(), await ReadToEndAsync(inbound));
        await inbound.WriteAsync("world"u8.ToArray());
        await inbound.CompleteWritingAsync();
        Assert.Equal("world"u8.ToArray(), await ReadToEndAsync(outbound));

        var fromServer = p.Server.OpenStream();
        Assert.Equal(2u, fromServer.Id);
        await fromServer.WriteAsync(new byte[] { 7 });
        var atClient = await p.ClientInbound.Reader.ReadAsync();
        var one = new byte[1];
        await atClient.ReadExactlyAsync(one);
        Assert.Equal(7, one[0]);
    }

    [Fact]
    public async Task Write_LargerThanWindow_WaitsForReaderThenCompletes()
    {
        await using var p = CreatePair();
        var outbound = p.Client.OpenStream();
        var data = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
        var write = outbound.WriteAsync(data).AsTask();
        var inbound = await p.ServerInbound.Reader.ReadAsync();
        // The reader has not consumed anything: the writer is stuck on the 1 MiB window (backpressure).
        Assert.False(write.IsCompleted);
        Assert.True(p.Server.BufferedBytes <= p.Server.Options.MaxStreamWindow);
        var got = new byte[data.Length];
        await inbound.ReadExactlyAsync(got);
        await write;
        Assert.Equal(data, got);
    }

    [Fact]
    public async Task Reset_ByPeer_FailsPendingRead()
    {
        await using var p = CreatePair();
        var outbound = p.Client.OpenStream();
        await outbound.WriteAsync(new byte[] { 1 });
        var inbound = await p.ServerInbound.Reader.ReadAsync();
        var one = new byte[1];
        await inbound.ReadExactlyAsync(one);
        var read = inbound.ReadAsync(new byte[10]).AsTask();
        outbound.Reset();
        var ex = await Assert.ThrowsAsync<Libp2pException>(() => read);
        Assert.Equal(Libp2pErrorCodes.Closed, ex.Code);
        await Assert.ThrowsAsync<Libp2pException>(async () => await outbound.WriteAsync(new byte[1]));
    }

    [Fact]
    public async Task Ping_RoundTrip_Completes()
    {
        await using var p = CreatePair();
        var rtt = await p.Client.PingAsync(default);
        Assert.True(rtt >= TimeSpan.Zero);
        rtt = await p.Server.PingAsync(default);
        Assert.True(rtt >= TimeSpan.Zero);
    }

    [Fact]
    public async Task InboundStreams_OverLimit_AreReset()
    {
        await using var p = CreatePair(new YamuxOptions { MaxInboundStreams = 2, KeepAliveInterval = TimeSpan.Zero });
        var s1 = p.Client.OpenStream();
        var s2 = p.Client.OpenStream();
        var s3 = p.Client.OpenStream();
        var ex = await Assert.ThrowsAsync<Libp2pException>(async () => await s3.ReadAsync(new byte[1]));
        Assert.Equal(Libp2pErrorCodes.Closed, ex.Code);
        Assert.Equal(2, p.Server.StreamCount);
        GC.KeepAlive(s1);
        GC.KeepAlive(s2);
    }

    [Fact]
    public async Task GoAway_FromPeer_RefusesNewOutboundStreams()
    {
        await using var p = CreatePair();
        await p.Server.CloseAsync();
        await p.Client.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Throws<Libp2pException>(() => p.Client.OpenStream());
    }

    [Fact]
    public async Task Data_BeyondWindow_ClosesSession()
    {
        var (a, b) = DuplexStream.CreatePair();
        var server = new YamuxSession(new PlainFrameTransport(b), isClient: false, new YamuxOptions { KeepAliveInterval = TimeSpan.Zero }, _ => Task.CompletedTask);
        server.Start();
        // raw client: SYN then 1 MiB + 1 byte of data on stream 1 (window is 1 MiB).
        var header = new byte[12];
        new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Syn, 1, 0).Write(header);
        await a.WriteAsync(header);
        int size = (1024 * 1024) + 1;
        new YamuxHeader(YamuxType.Data, YamuxFlags.None, 1, (uint)size).Write(header);
        await a.WriteAsync(header);
        await a.WriteAsync(new byte[size]);
        var ex = await Assert.ThrowsAsync<Libp2pException>(() => server.Completion);
        Assert.Equal(Libp2pErrorCodes.ProtocolViolation, ex.Code);
        Assert.Equal(0, server.BufferedBytes);
    }

    [Fact]
    public async Task Ping_FromRawPeer_IsAnsweredWithAckAndSameOpaque()
    {
        var (a, b) = DuplexStream.CreatePair();
        await using var server = new YamuxSession(new PlainFrameTransport(b), isClient: false, new YamuxOptions { KeepAliveInterval = TimeSpan.Zero }, _ => Task.CompletedTask);
        server.Start();
        var header = new byte[12];
        new YamuxHeader(YamuxType.Ping, YamuxFlags.Syn, 0, 0xdeadbeef).Write(header);
        await a.WriteAsync(header);
        var reply = new byte[12];
        await a.ReadExactlyAsync(reply);
        var parsed = YamuxHeader.Read(reply);
        Assert.Equal(YamuxType.Ping, parsed.Type);
        Assert.Equal(YamuxFlags.Ack, parsed.Flags);
        Assert.Equal(0xdeadbeefu, parsed.Length);
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 })] // version 1
    [InlineData(new byte[] { 0, 9, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 })] // type 9
    [InlineData(new byte[] { 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0 })] // unknown flag
    public void Header_Invalid_ThrowsProtocol(byte[] bytes)
    {
        var ex = Assert.Throws<Libp2pException>(() => YamuxHeader.Read(bytes));
        Assert.Equal(Libp2pErrorCodes.ProtocolViolation, ex.Code);
    }

    [Fact]
    public void Header_WriteRead_RoundTrips()
    {
        var h = new YamuxHeader(YamuxType.WindowUpdate, YamuxFlags.Syn | YamuxFlags.Ack, 0x01020304, 0xa0b0c0d0);
        var bytes = new byte[12];
        h.Write(bytes);
        Assert.Equal(0x01020304u, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4)));
        Assert.Equal(h, YamuxHeader.Read(bytes));
    }
}

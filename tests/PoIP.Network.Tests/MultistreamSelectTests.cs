using PoIP.Network.Multistream;

namespace PoIP.Network.Tests;

public sealed class MultistreamSelectTests
{
    [Fact]
    public async Task Select_SupportedProtocol_BothSidesAgreeAndLeaveFollowingBytes()
    {
        var (a, b) = DuplexStream.CreatePair();
        var listener = MultistreamSelect.ListenAsync(b, p => p == "/echo/1.0.0", default);
        await MultistreamSelect.SelectAsync(a, "/echo/1.0.0", default);
        await a.WriteAsync(new byte[] { 42 });
        Assert.Equal("/echo/1.0.0", await listener);
        var one = new byte[1];
        await b.ReadExactlyAsync(one);
        Assert.Equal(42, one[0]);
    }

    [Fact]
    public async Task Select_UnsupportedProtocol_ThrowsUnsupportedAfterNa()
    {
        var (a, b) = DuplexStream.CreatePair();
        var listener = MultistreamSelect.ListenAsync(b, p => p == "/other", default);
        var ex = await Assert.ThrowsAsync<Libp2pException>(() => MultistreamSelect.SelectAsync(a, "/missing/1.0.0", default));
        Assert.Equal(Libp2pErrorCodes.ProtocolNotSupported, ex.Code);
        // the listener answered na and keeps waiting for another proposal
        Assert.False(listener.IsCompleted);
        await MultistreamSelect.WriteMessageAsync(a, "/other", default);
        Assert.Equal("/other", await listener);
    }

    [Fact]
    public void Encode_KnownMessage_MatchesSpecBytes()
    {
        var buffer = new byte[32];
        int n = MultistreamSelect.Encode(buffer, "/multistream/1.0.0");
        Assert.Equal(20, n);
        Assert.Equal(19, buffer[0]);
        Assert.Equal((byte)'\n', buffer[19]);
    }

    [Fact]
    public async Task ReadMessage_OversizeLength_ThrowsLimit()
    {
        var (a, b) = DuplexStream.CreatePair();
        await a.WriteAsync(new byte[] { 0x81, 0x10 }); // 2049
        var ex = await Assert.ThrowsAsync<Libp2pException>(() => MultistreamSelect.ReadMessageAsync(b, default));
        Assert.Equal(Libp2pErrorCodes.LimitExceeded, ex.Code);
    }

    [Fact]
    public async Task ReadMessage_NoNewline_ThrowsProtocol()
    {
        var (a, b) = DuplexStream.CreatePair();
        await a.WriteAsync(new byte[] { 3, (byte)'a', (byte)'b', (byte)'c' });
        var ex = await Assert.ThrowsAsync<Libp2pException>(() => MultistreamSelect.ReadMessageAsync(b, default));
        Assert.Equal(Libp2pErrorCodes.ProtocolViolation, ex.Code);
    }

    [Fact]
    public async Task Listen_TooManyProposals_ThrowsLimit()
    {
        var (a, b) = DuplexStream.CreatePair();
        var listener = MultistreamSelect.ListenAsync(b, _ => false, default);
        await MultistreamSelect.WriteMessageAsync(a, MultistreamSelect.Header, default);
        for (int i = 0; i < MultistreamSelect.MaxAttempts; i++)
        {
            await MultistreamSelect.WriteMessageAsync(a, "/x/" + i, default);
        }

        var ex = await Assert.ThrowsAsync<Libp2pException>(() => listener);
        Assert.Equal(Libp2pErrorCodes.LimitExceeded, ex.Code);
    }
}

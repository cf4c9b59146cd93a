using System.Buffers.Binary;
using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using PoIP.Core.Identity;
using PoIP.Network.Noise;

namespace PoIP.Network.Tests;

public sealed class NoiseTests
{
    private static async Task<(NoiseResult I, NoiseResult R)> HandshakeAsync(Stream a, Stream b, Ed25519KeyPair ki, Ed25519KeyPair kr, PeerId? expected)
    {
        using var si = NoiseHandshake.CreateStaticKey();
        using var sr = NoiseHandshake.CreateStaticKey();
        var responder = NoiseHandshake.RespondAsync(b, sr, kr, ["/yamux/1.0.0"], default);
        var initiator = await NoiseHandshake.InitiateAsync(a, si, ki, [], expected, default);
        return (initiator, await responder);
    }

    [Fact]
    public async Task Handshake_BothSides_AuthenticateEachOtherAndExchangeMuxers()
    {
        using var ki = Ed25519KeyPair.Generate();
        using var kr = Ed25519KeyPair.Generate();
        var (a, b) = DuplexStream.CreatePair();
        var (i, r) = await HandshakeAsync(a, b, ki, kr, kr.PeerId);
        Assert.Equal(kr.PeerId, i.RemotePeer);
        Assert.Equal(ki.PeerId, r.RemotePeer);
        Assert.Equal(["/yamux/1.0.0"], i.RemoteMuxers);
        Assert.Empty(r.RemoteMuxers);

        // transport phase both ways, including a payload spanning many frames
        using var sa = new NoiseSecureStream(a, i.Send, i.Receive);
        using var sb = new NoiseSecureStream(b, r.Send, r.Receive);
        var big = RandomNumberGenerator.GetBytes(300_000);
        await sa.WriteAsync(big);
        var got = new byte[big.Length];
        await sb.ReadExactlyAsync(got);
        Assert.Equal(big, got);
        await sb.WriteAsync("pong"u8.ToArray());
        var pong = new byte[4];
        await sa.ReadExactlyAsync(pong);
        Assert.Equal("pong"u8.ToArray(), pong);
    }

    [Fact]
    public async Task Handshake_UnexpectedPeer_FailsForInitiator()
    {
        using var ki = Ed25519KeyPair.Generate();
        using var kr = Ed25519KeyPair.Generate();
        using var other = Ed25519KeyPair.Generate();
        var (a, b) = DuplexStream.CreatePair();
        var ex = await Assert.ThrowsAsync<Libp2pException>(() => HandshakeAsync(a, b, ki, kr, other.PeerId));
        Assert.Equal(Libp2pErrorCodes.HandshakeFailed, ex.Code);
    }

    [Fact]
    public async Task Handshake_LowOrderEphemeral_IsRejected()
    {
        using var kr = Ed25519KeyPair.Generate();
        using var sr = NoiseHandshake.CreateStaticKey();
        var (a, b) = DuplexStream.CreatePair();
        var frame = new byte[34];
        BinaryPrimitives.WriteUInt16BigEndian(frame, 32); // e = 0 (a low-order point)
        await a.WriteAsync(frame);
        var ex = await Assert.ThrowsAsync<Libp2pException>(() => NoiseHandshake.RespondAsync(b, sr, kr, [], default));
        Assert.Equal(Libp2pErrorCodes.HandshakeFailed, ex.Code);
    }

    [Fact]
    public async Task Transport_TamperedFrame_FailsAuthentication()
    {
        using var ki = Ed25519KeyPair.Generate();
        using var kr = Ed25519KeyPair.Generate();
        var (a, b) = DuplexStream.CreatePair();
        var (i, r) = await HandshakeAsync(a, b, ki, kr, null);
        var (x, y) = DuplexStream.CreatePair();
        using var sa = new NoiseSecureStream(x, i.Send, i.Receive);
        await sa.WriteAsync(new byte[100]);
        var wire = new byte[2 + 100 + 16];
        await y.ReadExactlyAsync(wire);
        wire[10] ^= 1;
        var (p, q) = DuplexStream.CreatePair();
        await p.WriteAsync(wire);
        using var sb = new NoiseSecureStream(q, r.Send, r.Receive);
        var ex = await Assert.ThrowsAsync<Libp2pException>(async () => await sb.ReadAsync(new byte[200]));
        Assert.Equal(Libp2pErrorCodes.ProtocolViolation, ex.Code);
    }

    // The payload codec is generated from Noise/Wire/noise.proto: any key, signature and muxer list
    // within the limits comes back as written.
    [FsCheck.Xunit.Property(MaxTest = 200)]
    public Property Payload_AnyFieldsWithinLimits_RoundTrips(byte[] key, byte[] signature, string[] muxers)
    {
        key = key.Length > 256 ? key[..256] : key;
        signature = signature.Length > 256 ? signature[..256] : signature;
        string[] names = [.. muxers.Where(m => m is not null).Select(m => m.Length > 200 ? m[..200] : m).Where(m => !m.Any(char.IsSurrogate)).Take(NoisePayload.MaxMuxers)];

        var decoded = NoisePayload.Decode(new NoisePayload(key, signature, names).Encode());

        return (decoded.IdentityKey.AsSpan().SequenceEqual(key) && decoded.IdentitySignature.AsSpan().SequenceEqual(signature) && decoded.StreamMuxers.SequenceEqual(names)).ToProperty();
    }

    [Fact]
    public void Payload_SeventeenMuxers_Oversize()
    {
        var bytes = new NoisePayload([1], [2], [.. Enumerable.Range(0, NoisePayload.MaxMuxers + 1).Select(i => $"/m/{i}")]).Encode();
        Assert.Equal(Core.Errors.DecodeErrorKind.Oversize, Assert.Throws<Core.Errors.PoIPDecodeException>(() => NoisePayload.Decode(bytes)).Kind);
    }

    [Fact]
    public void Payload_Garbage_ThrowsDecodeException()
    {
        Assert.ThrowsAny<Core.Errors.PoIPException>(() => NoisePayload.Decode(new byte[] { 0x0a, 0xff, 0xff, 0xff, 0x0f }));
        Assert.ThrowsAny<Core.Errors.PoIPException>(() => NoisePayload.Decode(new byte[NoisePayload.MaxLength + 1]));
    }

    // Regression for replacing the hand-written HKDF with HKDF.DeriveKey: the BCL's bytes equal the
    // Noise specification's HKDF (section 4.3, written out here) for any chaining key and any input
    // key, the empty one of Split included.
    [FsCheck.Xunit.Property(MaxTest = 200)]
    public Property Hkdf_AnyChainingAndInputKey_EqualsTheNoiseSpecification(byte[] chainingKeySeed, byte[] inputKeyMaterial, bool emptyInput)
    {
        byte[] chainingKey = SHA256.HashData(chainingKeySeed);
        byte[] input = emptyInput ? [] : inputKeyMaterial;
        var actual = new byte[64];
        NoiseHandshake.Hkdf(chainingKey, emptyInput ? ReadOnlySpan<byte>.Empty : input, actual); // Split's empty span, no array behind it

        byte[] tempKey = HMACSHA256.HashData(chainingKey, input);
        byte[] output1 = HMACSHA256.HashData(tempKey, new byte[] { 0x01 });
        byte[] output2 = HMACSHA256.HashData(tempKey, output1.Append((byte)0x02).ToArray());
        return actual.AsSpan().SequenceEqual([.. output1, .. output2]).ToProperty();
    }
}

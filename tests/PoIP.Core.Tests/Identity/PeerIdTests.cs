using PoIP.Core.Identity;

namespace PoIP.Core.Tests.Identity;

public sealed class PeerIdTests
{
    // peer-ids spec test vector: ED25519 private key 080112407e08...e27e, public key 080112201ed1...e27e.
    private const string SpecSeedHex = "7e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d";
    private const string SpecPublicProtobufHex = "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";

    [Fact]
    public void FromSeed_SpecVector_PublicKeyProtobufMatchesSpec()
    {
        using var key = Ed25519KeyPair.FromSeed(Convert.FromHexString(SpecSeedHex));
        Assert.Equal(SpecPublicProtobufHex, Convert.ToHexStringLower(key.PublicKey.ToProtobuf()));
    }

    [Fact]
    public void PeerId_SpecVector_IsIdentityMultihashOfProtobufKey()
    {
        using var key = Ed25519KeyPair.FromSeed(Convert.FromHexString(SpecSeedHex));
        Assert.Equal("0024" + SpecPublicProtobufHex, Convert.ToHexStringLower(key.PeerId.Bytes));
        string text = key.PeerId.ToString();
        Assert.StartsWith("12D3KooW", text, StringComparison.Ordinal);
        Assert.Equal("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq", text);
    }

    [Fact]
    public void Parse_SpecExampleText_RoundTrips()
    {
        const string text = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
        var id = PeerId.Parse(text);
        Assert.Equal(text, id.ToString());
        Assert.True(id.TryGetEd25519PublicKey(out _));
    }

    [Fact]
    public void Parse_Sha256Multihash_Accepted()
    {
        const string text = "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N";
        Assert.Equal(text, PeerId.Parse(text).ToString());
        Assert.False(PeerId.Parse(text).TryGetEd25519PublicKey(out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("12D3KooW")]
    [InlineData("not-a-peer-id")]
    [InlineData("1111111111")]
    public void TryParse_Garbage_Fails(string text) => Assert.False(PeerId.TryParse(text, out _));

    [Fact]
    public void Equality_SameKey_Equal()
    {
        using var key = Ed25519KeyPair.Generate();
        var copy = PeerId.Parse(key.PeerId.ToString());
        Assert.Equal(key.PeerId, copy);
        Assert.Equal(key.PeerId.GetHashCode(), copy.GetHashCode());
        Assert.True(copy.TryGetEd25519PublicKey(out var publicKey));
        Assert.Equal(key.PublicKey, publicKey);
    }

    [Fact]
    public void Sign_ThenVerify_OnlyOriginalVerifies()
    {
        using var key = Ed25519KeyPair.Generate();
        byte[] data = [1, 2, 3];
        byte[] signature = key.Sign(data);
        Assert.True(key.PublicKey.Verify(data, signature));
        Assert.False(key.PublicKey.Verify([1, 2, 4], signature));
        signature[0] ^= 1;
        Assert.False(key.PublicKey.Verify(data, signature));
    }
}

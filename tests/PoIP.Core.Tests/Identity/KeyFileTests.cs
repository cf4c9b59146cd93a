using PoIP.Core.Errors;
using PoIP.Core.Identity;

namespace PoIP.Core.Tests.Identity;

public sealed class KeyFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("poip-keys-").FullName;

    [Fact]
    public void WriteThenRead_SameKey_OwnerOnlyPermissions()
    {
        string path = Path.Combine(_directory, "node.key");
        using var key = Ed25519KeyPair.Generate();
        KeyFile.Write(path, key);
        using var read = KeyFile.Read(path);
        Assert.Equal(key.PeerId, read.PeerId);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Write_Existing_Throws()
    {
        string path = Path.Combine(_directory, "node.key");
        using var key = Ed25519KeyPair.Generate();
        KeyFile.Write(path, key);
        Assert.Throws<IOException>(() => KeyFile.Write(path, key));
    }

    [Fact]
    public void Read_WorldReadable_Refused()
    {
        string path = Path.Combine(_directory, "node.key");
        using var key = Ed25519KeyPair.Generate();
        KeyFile.Write(path, key);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var error = Assert.Throws<PoIPException>(() => KeyFile.Read(path));
        Assert.Equal("keyfile.permissions", error.Code);
    }

    [Fact]
    public void Read_PublicKeyNotMatchingSeed_Refused()
    {
        string path = Path.Combine(_directory, "node.key");
        using var key = Ed25519KeyPair.Generate();
        KeyFile.Write(path, key);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<PoIPException>(() => KeyFile.Read(path));
        Assert.Equal("keyfile.invalid", error.Code);
    }

    [Fact]
    public void Read_WrongLength_Refused()
    {
        string path = Path.Combine(_directory, "short.key");
        File.WriteAllBytes(path, new byte[10]);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal("keyfile.invalid", Assert.Throws<PoIPException>(() => KeyFile.Read(path)).Code);
    }

    [Fact]
    public void ReadOrCreate_Twice_SameIdentity()
    {
        string path = Path.Combine(_directory, "sub", "node.key");
        using var first = KeyFile.ReadOrCreate(path);
        using var second = KeyFile.ReadOrCreate(path);
        Assert.Equal(first.PeerId, second.PeerId);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

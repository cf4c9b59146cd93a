using PoIP.Core.Errors;

namespace PoIP.Core.Identity;

/// <summary>
/// Reads and writes identity key files in libp2p's private-key encoding
/// (<c>08 01 12 40</c> + seed + public key, 68 bytes), created with owner-only permissions (0600)
/// and refused when other users can read them.
/// </summary>
public static class KeyFile
{
    private const int FileLength = 68;
    private static readonly byte[] Prefix = [0x08, 0x01, 0x12, 0x40];

    /// <summary>Writes a new key file; fails if the file exists.</summary>
    /// <exception cref="IOException">The file exists or cannot be created.</exception>
    public static void Write(string path, Ed25519KeyPair keyPair)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(keyPair);
        var bytes = new byte[FileLength];
        Prefix.CopyTo(bytes, 0);
        keyPair.ExportSeed().CopyTo(bytes, 4);
        keyPair.PublicKey.Raw.CopyTo(bytes.AsSpan(36));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        using (var stream = new FileStream(path, options))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        System.Security.Cryptography.CryptographicOperations.ZeroMemory(bytes);
    }

    /// <summary>Reads a key file, checking its permissions, length, encoding and that the public key matches the seed.</summary>
    /// <exception cref="PoIPException">Code <c>keyfile.permissions</c> or <c>keyfile.invalid</c>.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static Ed25519KeyPair Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
            if ((mode & others) != 0)
            {
                throw new PoIPException("keyfile.permissions", $"Key file '{path}' is readable or writable by other users ({mode}); run 'chmod 600 {path}'.");
            }
        }

        var info = new FileInfo(path);
        if (info.Length != FileLength)
        {
            throw new PoIPException("keyfile.invalid", $"Key file '{path}' is {info.Length} bytes; an Ed25519 libp2p private key is {FileLength}.");
        }

        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            if (!bytes.AsSpan(0, 4).SequenceEqual(Prefix))
            {
                throw new PoIPException("keyfile.invalid", $"Key file '{path}' is not an Ed25519 libp2p private key.");
            }

            var keyPair = Ed25519KeyPair.FromSeed(bytes.AsSpan(4, 32));
            if (!keyPair.PublicKey.Raw.SequenceEqual(bytes.AsSpan(36, 32)))
            {
                keyPair.Dispose();
                throw new PoIPException("keyfile.invalid", $"Key file '{path}' is corrupt: its public key does not match its seed.");
            }

            return keyPair;
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>Reads the key file, creating it with a new key when absent.</summary>
    public static Ed25519KeyPair ReadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            using var created = Ed25519KeyPair.Generate();
            try
            {
                Write(path, created);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: use theirs.
            }
        }

        return Read(path);
    }
}

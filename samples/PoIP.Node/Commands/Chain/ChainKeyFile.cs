using PoIP.Economics.Evm;

namespace PoIP.Node.Commands.Chain;

/// <summary>A chain account's secp256k1 private key in a file: one line of hex (0x optional), mode 0600.</summary>
internal static class ChainKeyFile
{
    /// <summary>Reads a key file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not 32 bytes of hex.</exception>
    public static string Read(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"chain key file '{path}' not found.", path);
        }

        if (info.Length > 256)
        {
            throw new InvalidDataException($"chain key file '{path}' is not a private key (too large).");
        }

        string key = File.ReadAllText(path).Trim();
        try
        {
            _ = EvmAccounts.AddressOf(key);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"chain key file '{path}' does not hold a 32-byte hex private key.", ex);
        }

        return key;
    }

    /// <summary>Reads the key file, creating it with a new random key (mode 0600) when absent.</summary>
    public static string ReadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            try
            {
                using var writer = new StreamWriter(path, options);
                writer.WriteLine(EvmAccounts.NewPrivateKey());
            }
            catch (IOException) when (File.Exists(path))
            {
                // created by another process at the same moment: read theirs
            }
        }

        return Read(path);
    }

    /// <summary>The default chain key beside an identity key: <c>node.key</c> → <c>node.chain.key</c>.</summary>
    public static string BesideIdentity(string identityKey) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(identityKey))!, Path.GetFileNameWithoutExtension(identityKey) + ".chain.key");
}

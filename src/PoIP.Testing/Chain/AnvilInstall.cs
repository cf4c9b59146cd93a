using System.Diagnostics;
using System.Security.Cryptography;

namespace PoIP.Testing.Chain;

/// <summary>
/// Finds the Anvil dev chain (npm <c>@foundry-rs/anvil-linux-amd64</c> 1.7.1), installing it on
/// first use with <c>npm ci</c> from the lock that ships beside this assembly (<c>anvil/</c>, no
/// registry URLs in it). The install goes to <c>~/.poip/tools/anvil-&lt;lock hash&gt;</c> (or
/// <c>$POIP_TOOLS</c>), made in a private folder and renamed into place, so concurrent first runs
/// (two test hosts, a test and the console) never see half an install. <c>$POIP_ANVIL</c> names a
/// binary to use instead.
/// </summary>
public static class AnvilInstall
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>The folder holding the committed npm lock (copied beside the assembly at build).</summary>
    public static string LockDirectory => Path.Combine(AppContext.BaseDirectory, "anvil");

    /// <summary>Returns the anvil binary, installing it first when needed (bounded by <paramref name="timeout"/>, default 5 min).</summary>
    /// <exception cref="InvalidOperationException">npm is missing or failed; the lock is not beside the assembly.</exception>
    public static async Task<string> EnsureAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        string? configured = Environment.GetEnvironmentVariable("POIP_ANVIL");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? configured : throw new InvalidOperationException($"POIP_ANVIL names '{configured}', which does not exist.");
        }

        string lockFile = Path.Combine(LockDirectory, "package-lock.json");
        if (!File.Exists(lockFile))
        {
            throw new InvalidOperationException($"The Anvil lock file is missing beside the program ({lockFile}).");
        }

        string hash = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(lockFile, cancellationToken).ConfigureAwait(false)))[..12];
        string root = Environment.GetEnvironmentVariable("POIP_TOOLS") is { Length: > 0 } tools ? tools : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".poip", "tools");
        string target = Path.Combine(root, "anvil-" + hash);
        string binary = BinaryIn(target);
        if (File.Exists(binary))
        {
            return binary;
        }

        await Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (File.Exists(binary))
            {
                return binary;
            }

            Directory.CreateDirectory(root);
            string staging = Path.Combine(root, $".anvil-{hash}-{Environment.ProcessId}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(staging);
            try
            {
                foreach (string name in new[] { "package.json", "package-lock.json", ".npmrc" })
                {
                    File.Copy(Path.Combine(LockDirectory, name), Path.Combine(staging, name));
                }

                await NpmCiAsync(staging, timeout ?? TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false);
                if (!File.Exists(BinaryIn(staging)))
                {
                    throw new InvalidOperationException("npm ci finished but the anvil binary is not where the package puts it.");
                }

                try
                {
                    Directory.Move(staging, target);
                }
                catch (IOException) when (File.Exists(binary))
                {
                    // another process installed it first
                }
            }
            finally
            {
                if (Directory.Exists(staging))
                {
                    Directory.Delete(staging, recursive: true);
                }
            }

            return binary;
        }
        finally
        {
            Gate.Release();
        }
    }

    private static string BinaryIn(string folder) => Path.Combine(folder, "node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil");

    private static async Task NpmCiAsync(string folder, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo("npm") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { "ci", "--no-audit", "--no-fund", "--ignore-scripts" })
        {
            psi.ArgumentList.Add(argument);
        }

        Process npm;
        try
        {
            npm = Process.Start(psi) ?? throw new InvalidOperationException("cannot start npm.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("Installing Anvil needs npm on the PATH: " + ex.Message, ex);
        }

        using (npm)
        {
            var output = npm.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var error = npm.StandardError.ReadToEndAsync(CancellationToken.None);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            try
            {
                await npm.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                npm.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"npm ci for Anvil did not finish within {timeout}.");
            }

            if (npm.ExitCode != 0)
            {
                string detail = (await error.ConfigureAwait(false)).Trim();
                _ = await output.ConfigureAwait(false);
                throw new InvalidOperationException($"npm ci for Anvil failed ({npm.ExitCode}): {detail.Split('\n').LastOrDefault(l => l.Length > 0)}");
            }
        }
    }
}

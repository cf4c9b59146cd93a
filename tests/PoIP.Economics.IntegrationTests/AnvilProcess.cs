using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using PoIP.TestUtils;

namespace PoIP.Economics.IntegrationTests;

/// <summary>
/// A real Anvil dev chain on 127.0.0.1 and a free port, installed with <c>npm ci</c> from the
/// committed lock on first use. It runs under a <c>/bin/sh</c> wrapper that kills it when the
/// wrapper's stdin closes, so a test host that dies (even by SIGKILL) leaves no chain behind.
/// Readiness is its own "Listening on" line, waited for with a timeout.
/// </summary>
public sealed partial class AnvilProcess : IAsyncDisposable
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private readonly Process _process;

    private AnvilProcess(Process process, Uri rpcUrl)
    {
        _process = process;
        RpcUrl = rpcUrl;
    }

    /// <summary>The JSON-RPC endpoint.</summary>
    public Uri RpcUrl { get; }

    public static string Directory => Path.Combine(RepositoryPaths.Root, "tests", "PoIP.Economics.IntegrationTests", "anvil");

    public static string Binary => Path.Combine(Directory, "node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil");

    public static async Task<AnvilProcess> StartAsync(CancellationToken cancellationToken = default)
    {
        await EnsureInstalledAsync(cancellationToken).ConfigureAwait(false);
        // $0 is the binary: start it in the background, wait for stdin to close, then stop it.
        const string Wrapper = "\"$0\" --host 127.0.0.1 --port 0 --accounts 1 & child=$!; trap 'kill $child 2>/dev/null' EXIT; cat >/dev/null; kill $child 2>/dev/null; wait $child";
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Wrapper);
        psi.ArgumentList.Add(Binary);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start /bin/sh for anvil");
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && ListeningLine().Match(line) is { Success: true } match)
            {
                listening.TrySetResult(new Uri($"http://127.0.0.1:{int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)}"));
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("anvil exited before listening"));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var url = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            return new AnvilProcess(process, url);
        }
        catch
        {
            process.StandardInput.Close();
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close(); // the wrapper kills anvil
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static async Task EnsureInstalledAsync(CancellationToken cancellationToken)
    {
        await InstallLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (File.Exists(Binary))
            {
                return;
            }

            var psi = new ProcessStartInfo("npm", "ci --no-audit --no-fund") { WorkingDirectory = Directory, RedirectStandardOutput = true, RedirectStandardError = true };
            using var npm = Process.Start(psi) ?? throw new InvalidOperationException("cannot start npm");
            var output = npm.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = npm.StandardError.ReadToEndAsync(cancellationToken);
            await npm.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (npm.ExitCode != 0)
            {
                throw new InvalidOperationException($"npm ci failed ({npm.ExitCode}): {await output.ConfigureAwait(false)}\n{await error.ConfigureAwait(false)}");
            }
        }
        finally
        {
            InstallLock.Release();
        }
    }

    [GeneratedRegex(@"Listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();
}

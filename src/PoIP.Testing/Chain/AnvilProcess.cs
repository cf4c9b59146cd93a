using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace PoIP.Testing.Chain;

/// <summary>
/// A real Anvil dev chain on 127.0.0.1 and a free port (<see cref="AnvilInstall"/> finds or installs
/// it). It runs under a <c>/bin/sh</c> wrapper that kills it when the wrapper's standard input
/// closes, so a parent that dies, even by SIGKILL, leaves no chain behind. Readiness is Anvil's own
/// "Listening on" line, waited for with a timeout. It keeps the last 64 block states in memory and
/// writes none to disk (<c>--prune-history</c>), under a temporary home removed with the chain.
/// </summary>
public sealed partial class AnvilProcess : IAsyncDisposable
{
    // $0 is the binary, "$@" its arguments. Anvil runs in the background; a watcher reads the
    // wrapper's stdin (saved as fd 3: a background list's own stdin is /dev/null) and kills Anvil
    // when it closes; the wrapper exits when Anvil does, so Exited also reports a chain that died.
    // On exit it also removes Anvil's temporary home (only a folder named poip-anvil-*), so a parent
    // killed before it could dispose leaves no folder either.
    private const string Wrapper = "exec 3<&0; \"$0\" \"$@\" & child=$!; trap 'kill $child 2>/dev/null; wait $child 2>/dev/null; case \"$POIP_ANVIL_HOME\" in */poip-anvil-*) rm -rf \"$POIP_ANVIL_HOME\";; esac' EXIT; (cat <&3 >/dev/null; kill $child 2>/dev/null) & wait $child";

    // States kept in memory: enough for anvil_reorg and reads a few blocks back.
    private const string PrunedStates = "64";

    private readonly Process _process;
    private readonly TaskCompletionSource _exited;
    private int _disposed;

    private readonly DirectoryInfo _home;

    private AnvilProcess(Process process, Uri rpcUrl, TaskCompletionSource exited, DirectoryInfo home)
    {
        _process = process;
        _home = home;
        RpcUrl = rpcUrl;
        _exited = exited;
    }

    /// <summary>The JSON-RPC endpoint, <c>http://127.0.0.1:PORT</c> (or the address given to <see cref="StartOnAsync"/>).</summary>
    public Uri RpcUrl { get; }

    /// <summary>The chain's process id (the wrapper's child).</summary>
    public int WrapperProcessId => _process.Id;

    /// <summary>The chain's own home folder (its <c>~/.foundry</c> lives there); removed on dispose.</summary>
    internal DirectoryInfo Home => _home;

    /// <summary>Completes when the chain's process has exited (stopped, or died on its own).</summary>
    public Task Exited => _exited.Task;

    /// <summary>
    /// Starts Anvil with <paramref name="accounts"/> pre-funded development accounts (Anvil's default
    /// mnemonic, 10,000 coins each) and any <paramref name="extraArguments"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Anvil could not be installed or did not start listening within 30 s.</exception>
    public static Task<AnvilProcess> StartAsync(int accounts = 1, IEnumerable<string>? extraArguments = null, CancellationToken cancellationToken = default) =>
        StartOnAsync(IPAddress.Loopback, accounts, extraArguments, cancellationToken);

    /// <summary>
    /// Starts Anvil listening on <paramref name="host"/> (an address of this machine, or of the network
    /// namespace it runs in) and a free port; otherwise as <see cref="StartAsync"/>. The RPC URL names
    /// that address.
    /// </summary>
    /// <exception cref="InvalidOperationException">Anvil could not be installed, could not listen there, or did not start listening within 30 s.</exception>
    public static async Task<AnvilProcess> StartOnAsync(IPAddress host, int accounts, IEnumerable<string>? extraArguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        string hostText = host.ToString();
        string binary = await AnvilInstall.EnsureAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        // A home of its own: whatever Anvil writes there (its ~/.foundry folders) goes when the chain is disposed.
        var home = Directory.CreateTempSubdirectory("poip-anvil-");
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["HOME"] = home.FullName;
        psi.Environment["POIP_ANVIL_HOME"] = home.FullName;
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Wrapper);
        psi.ArgumentList.Add(binary);
        // --prune-history: no historical states written to disk. Without it Anvil serializes the whole
        // state to ~/.foundry/anvil/tmp for every block past its in-memory window (megabytes each, more as
        // the state grows) and never deletes them when stopped: a 10-minute soak left 14 GB there.
        foreach (string argument in (string[])["--host", hostText, "--port", "0", "--accounts", accounts.ToString(CultureInfo.InvariantCulture), "--prune-history", PrunedStates, .. extraArguments ?? []])
        {
            psi.ArgumentList.Add(argument);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start /bin/sh for anvil.");
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && ListeningLine().Match(line) is { Success: true } match)
            {
                string authority = host.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{hostText}]" : hostText;
                listening.TrySetResult(new Uri($"http://{authority}:{int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)}"));
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.Exited += (_, _) =>
        {
            listening.TrySetException(new InvalidOperationException("anvil exited before listening."));
            exited.TrySetResult();
        };
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var url = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            return new AnvilProcess(process, url, exited, home);
        }
        catch (Exception ex)
        {
            process.StandardInput.Close();
            process.Kill(entireProcessTree: true);
            process.Dispose();
            DeleteQuietly(home);
            throw ex is TimeoutException ? new InvalidOperationException("anvil did not start listening within 30 s.", ex) : ex;
        }
    }

    /// <summary>Stops the chain (closing the wrapper's standard input; killed after 10 s).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

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
            DeleteQuietly(_home);
        }
    }

    private static void DeleteQuietly(DirectoryInfo folder)
    {
        try
        {
            folder.Delete(recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a temporary folder: the system's cleanup takes what is left
        }
    }

    [GeneratedRegex(@"Listening on \S+:(\d+)")]
    private static partial Regex ListeningLine();
}

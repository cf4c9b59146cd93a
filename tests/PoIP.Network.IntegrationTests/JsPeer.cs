using System.Diagnostics;
using System.Text.Json;

namespace PoIP.Network.Interop;

/// <summary>
/// A js-libp2p peer (tests/PoIP.Network.IntegrationTests/js/peer.mjs) in a child process: prints
/// its multiaddr, then answers one JSON line per stdin command. <c>npm ci</c> runs first when
/// node_modules is absent. Shared by the interop tests and the p2p benchmark.
/// </summary>
internal sealed class JsPeer : IAsyncDisposable
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private readonly Process _process;
    private readonly SemaphoreSlim _commandLock = new(1, 1);
    private readonly List<string> _stderr;

    private JsPeer(Process process, string address, List<string> stderr)
    {
        _process = process;
        Address = address;
        _stderr = stderr;
    }

    /// <summary>The js peer's listen address with /p2p/.</summary>
    public string Address { get; }

    public string PeerId => Address[(Address.LastIndexOf('/') + 1)..];

    /// <summary>CPU time the node process has used so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return string.Join('\n', _stderr.TakeLast(40));
            }
        }
    }

    public static string Directory(string repositoryRoot) => Path.Combine(repositoryRoot, "tests", "PoIP.Network.IntegrationTests", "js");

    /// <summary>Runs <c>npm ci</c> in the js folder unless node_modules is there.</summary>
    public static async Task EnsureInstalledAsync(string repositoryRoot, CancellationToken cancellationToken)
    {
        string dir = Directory(repositoryRoot);
        await InstallLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (File.Exists(Path.Combine(dir, "node_modules", "libp2p", "package.json"))
                && File.Exists(Path.Combine(dir, "node_modules", "@libp2p", "kad-dht", "package.json")))
            {
                return;
            }

            var psi = new ProcessStartInfo("npm", "ci --no-audit --no-fund") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
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

    /// <summary>Runs a one-shot script command (e.g. <c>peerid HEX</c>) and returns its stdout.</summary>
    public static async Task<string> RunOnceAsync(string repositoryRoot, string arguments, CancellationToken cancellationToken)
    {
        await EnsureInstalledAsync(repositoryRoot, cancellationToken).ConfigureAwait(false);
        var psi = new ProcessStartInfo("node", "--import ./polyfill.mjs peer.mjs " + arguments) { WorkingDirectory = Directory(repositoryRoot), RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start node");
        var stdout = p.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(cancellationToken);
        await p.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException("node failed: " + await stderr.ConfigureAwait(false));
        }

        return (await stdout.ConfigureAwait(false)).Trim();
    }

    public static Task<JsPeer> StartAsync(string repositoryRoot, string extraArguments, CancellationToken cancellationToken) =>
        StartScriptAsync(repositoryRoot, "peer.mjs", extraArguments, cancellationToken);

    /// <summary>Starts another script of the js folder that follows the same protocol (e.g. <c>kad.mjs</c>).</summary>
    public static async Task<JsPeer> StartScriptAsync(string repositoryRoot, string script, string extraArguments, CancellationToken cancellationToken)
    {
        await EnsureInstalledAsync(repositoryRoot, cancellationToken).ConfigureAwait(false);
        var psi = new ProcessStartInfo("node", $"--import ./polyfill.mjs {script} {extraArguments}")
        {
            WorkingDirectory = Directory(repositoryRoot),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start node");
        var stderr = new List<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.Add(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        string? line;
        do
        {
            line = await process.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        }
        while (line is not null && !line.StartsWith("LISTEN ", StringComparison.Ordinal));

        if (line is null)
        {
            process.Kill(entireProcessTree: true);
            string err;
            lock (stderr)
            {
                err = string.Join('\n', stderr);
            }

            throw new InvalidOperationException("js peer exited before listening: " + err);
        }

        return new JsPeer(process, line["LISTEN ".Length..].Trim(), stderr);
    }

    /// <summary>Sends one command and returns its JSON answer; throws when the answer is not ok.</summary>
    public async Task<JsonElement> CommandAsync(string command, CancellationToken cancellationToken)
    {
        await _commandLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _process.StandardInput.WriteLineAsync(command.AsMemory(), cancellationToken).ConfigureAwait(false);
            await _process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
            string? line = await _process.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("js peer exited: " + StandardError);
            var json = JsonDocument.Parse(line).RootElement.Clone();
            if (!json.GetProperty("ok").GetBoolean())
            {
                throw new InvalidOperationException($"js command '{command}' failed: {json.GetProperty("error").GetString()}\n{StandardError}");
            }

            return json;
        }
        finally
        {
            _commandLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await _process.StandardInput.WriteLineAsync("quit").ConfigureAwait(false);
                await _process.StandardInput.FlushAsync().ConfigureAwait(false);
                _process.StandardInput.Close();
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        finally
        {
            _process.Dispose();
            _commandLock.Dispose();
        }
    }
}

using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace PoIP.Node.Commands.Soak;

/// <summary>One role's process (this executable: node run, validator run, gateway run) with <c>--stop-on-stdin-close</c>: its ready line, its status lines, its memory and sockets.</summary>
internal sealed class SoakRole : IDisposable
{
    private readonly StringBuilder _errors = new();
    private readonly Channel<string> _status = Channel.CreateBounded<string>(16);
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _ask = new(1, 1);

    private SoakRole(string name, Process process)
    {
        Name = name;
        Process = process;
    }

    public string Name { get; }

    public Process Process { get; }

    /// <summary>The first line the role printed: a multiaddr (node, validator) or the API line (gateway).</summary>
    public string ReadyLine { get; private set; } = string.Empty;

    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    /// <summary>Starts the role and waits (at most 120 s) for its first line on standard output.</summary>
    public static async Task<SoakRole> StartAsync(string name, IRolePlacement placement, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var role = new SoakRole(name, placement.Start(name, arguments));
        role.Process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (role._errors)
                {
                    if (role._errors.Length < 64 * 1024)
                    {
                        role._errors.AppendLine(e.Data);
                    }
                }
            }
        };
        role.Process.BeginErrorReadLine();
        _ = role.ReadOutputAsync();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        try
        {
            role.ReadyLine = await role._ready.Task.WaitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
        {
            role.Kill();
            string why = role.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no output";
            role.Dispose();
            throw new InvalidOperationException($"the {name} process did not start: {why}");
        }

        return role;
    }

    /// <summary>Asks the role for its status line (libp2p connections and streams open now, served, refused, claimed).</summary>
    public async Task<RoleStatus> StatusAsync(CancellationToken cancellationToken)
    {
        await _ask.WaitAsync(cancellationToken);
        try
        {
            while (_status.Reader.TryRead(out _))
            {
                // a stale answer to an earlier, timed-out question
            }

            await Process.StandardInput.WriteLineAsync("status".AsMemory(), cancellationToken);
            await Process.StandardInput.FlushAsync(cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            string line = await _status.Reader.ReadAsync(timeout.Token);
            var status = JsonDocument.Parse(line).RootElement.GetProperty("status");
            return new RoleStatus(status.GetProperty("connections").GetInt32(), status.GetProperty("streams").GetInt32(), status.GetProperty("served").GetInt32(), status.GetProperty("payments_claimed").GetInt32());
        }
        finally
        {
            _ask.Release();
        }
    }

    /// <summary>Resident memory in MiB (Linux <c>/proc</c>; the process's working set elsewhere).</summary>
    public double RssMiB() => ProcessProbe.RssBytes(Process) / (1024.0 * 1024.0);

    /// <summary>A remote port whose connections <see cref="EstablishedTcp"/> leaves out: the chain's RPC (its HTTP client keeps connections to it, apart from libp2p).</summary>
    public int? ExceptRemotePort { get; set; }

    /// <summary>Established TCP connections to <see cref="ExceptRemotePort"/> (the chain's RPC) at the last <see cref="EstablishedTcp"/>; null without a chain, -1 where unknown.</summary>
    public int? ChainRpcTcp { get; private set; }

    /// <summary>Established TCP connections of the process, less those to <see cref="ExceptRemotePort"/> (Linux; -1 where unknown).</summary>
    public int EstablishedTcp()
    {
        int others = ProcessProbe.EstablishedTcp(Process.Id, ExceptRemotePort);
        if (ExceptRemotePort is not null)
        {
            int all = ProcessProbe.EstablishedTcp(Process.Id);
            ChainRpcTcp = all >= 0 && others >= 0 ? all - others : -1;
        }

        return others;
    }

    /// <summary>Writes what the process printed on standard error (its first 64 KiB) to <paramref name="path"/>.</summary>
    public void SaveErrors(string path) => File.WriteAllText(path, Errors);

    /// <summary>Closes standard input (the role stops), waits up to 30 s, then kills it.</summary>
    public async Task StopAsync()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.StandardInput.Close();
            }
        }
        catch (IOException)
        {
            // already gone
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await Process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    public void Dispose()
    {
        Kill();
        Process.Dispose();
        _ask.Dispose();
    }

    private void Kill()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
    }

    private async Task ReadOutputAsync()
    {
        try
        {
            while (await Process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (!_ready.Task.IsCompleted)
                {
                    _ready.TrySetResult(line.Trim());
                }
                else if (line.StartsWith("{\"status\"", StringComparison.Ordinal))
                {
                    _status.Writer.TryWrite(line);
                }
            }
        }
        catch (IOException)
        {
            // the process went away
        }
        finally
        {
            _ready.TrySetException(new InvalidOperationException("exited before its first line"));
            _status.Writer.TryComplete();
        }
    }
}

/// <summary>A role's answer to <c>status</c>.</summary>
internal readonly record struct RoleStatus(int Connections, int Streams, int Served, int PaymentsClaimed);

using System.Diagnostics;

namespace PoIP.Node.Hosts;

/// <summary>
/// A process the lab started inside one of its namespaces, with its standard output and error
/// collected line by line (the last <see cref="MaxLines"/> of each) and waits on lines with a timeout.
/// Its standard input stays open until <see cref="CloseInput"/>: the PoIP roles started with
/// <c>--stop-on-stdin-close</c> stop when it closes, also when this process dies.
/// </summary>
internal sealed class LabProcess : IDisposable
{
    /// <summary>Lines kept per stream.</summary>
    public const int MaxLines = 4000;

    private readonly Lock _lock = new();
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly List<(Func<string, bool> Match, bool Stderr, TaskCompletionSource<string> Found)> _waiters = [];

    public LabProcess(LabHost host, Process process)
    {
        Host = host;
        Process = process;
        process.OutputDataReceived += (_, e) => Add(e.Data, stderr: false);
        process.ErrorDataReceived += (_, e) => Add(e.Data, stderr: true);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The host (namespace) it runs in.</summary>
    public LabHost Host { get; }

    /// <summary>The process (<c>ip netns exec</c> execs the program, so this is the program's own pid).</summary>
    public Process Process { get; }

    /// <summary>Its standard output lines so far.</summary>
    public IReadOnlyList<string> Stdout
    {
        get
        {
            lock (_lock)
            {
                return [.. _stdout];
            }
        }
    }

    /// <summary>Its standard error lines so far.</summary>
    public IReadOnlyList<string> Stderr
    {
        get
        {
            lock (_lock)
            {
                return [.. _stderr];
            }
        }
    }

    /// <summary>Waits for the first line (past or future) of standard output (or error) that <paramref name="match"/> accepts.</summary>
    /// <exception cref="TimeoutException">None within <paramref name="timeout"/>, or the process ended first (the message has its last lines).</exception>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, bool stderr = false, CancellationToken cancellationToken = default)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            string? seen = (stderr ? _stderr : _stdout).FirstOrDefault(match);
            if (seen is not null)
            {
                return seen;
            }

            _waiters.Add((match, stderr, found));
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        var exited = Process.WaitForExitAsync(timer.Token);
        var first = await Task.WhenAny(found.Task, exited, Task.Delay(Timeout.Infinite, timer.Token)).ConfigureAwait(false);
        if (first == found.Task)
        {
            return await found.Task.ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (first == exited && exited.IsCompletedSuccessfully)
        {
            // The last lines may still be in flight: WaitForExit() drains the redirected streams.
            Process.WaitForExit();
            lock (_lock)
            {
                string? late = (stderr ? _stderr : _stdout).FirstOrDefault(match);
                if (late is not null)
                {
                    return late;
                }
            }
        }

        throw new TimeoutException($"{Host.Name}: no matching line within {timeout.TotalSeconds:F0} s{(Process.HasExited ? $" (exited {Process.ExitCode})" : string.Empty)}; last output: {Tail()}");
    }

    /// <summary>Waits for the process to end (killed when <paramref name="timeout"/> passes) and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var timer = new CancellationTokenSource(timeout);
        try
        {
            await Process.WaitForExitAsync(timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill();
            await Process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        Process.WaitForExit(); // drains the output
        return Process.ExitCode;
    }

    /// <summary>Closes its standard input (roles with <c>--stop-on-stdin-close</c> then stop).</summary>
    public void CloseInput()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.StandardInput.Close();
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            // already gone
        }
    }

    /// <summary>Kills it (SIGKILL, with its children).</summary>
    public void Kill()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // already gone
        }
    }

    /// <summary>The last lines of both streams, for error messages.</summary>
    public string Tail()
    {
        lock (_lock)
        {
            return string.Join(" | ", _stdout.TakeLast(5).Concat(_stderr.TakeLast(10)));
        }
    }

    public void Dispose()
    {
        Kill();
        Process.Dispose();
    }

    private void Add(string? line, bool stderr)
    {
        if (line is null)
        {
            return;
        }

        List<TaskCompletionSource<string>> matched = [];
        lock (_lock)
        {
            var lines = stderr ? _stderr : _stdout;
            if (lines.Count == MaxLines)
            {
                lines.RemoveAt(0);
            }

            lines.Add(line);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Stderr == stderr && _waiters[i].Match(line))
                {
                    matched.Add(_waiters[i].Found);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (var found in matched)
        {
            found.TrySetResult(line);
        }
    }
}

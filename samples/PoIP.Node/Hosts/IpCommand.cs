using System.Diagnostics;

namespace PoIP.Node.Hosts;

/// <summary>Runs iproute2's <c>ip</c> (each call bounded to 10 s) and reports a failure with its message.</summary>
internal static class IpCommand
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    /// <summary>True when <c>ip</c> is on the PATH.</summary>
    public static bool Available => (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
        .Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Any(folder => File.Exists(Path.Combine(folder, "ip")));

    /// <summary>Runs <c>ip ARGS</c>; returns its standard output.</summary>
    /// <exception cref="HostLabException">It failed or ran over 10 s.</exception>
    public static string Run(params string[] arguments)
    {
        var (exit, stdout, stderr) = TryRun(arguments);
        return exit == 0 ? stdout : throw new HostLabException($"'ip {string.Join(' ', arguments)}' failed: {stderr.Trim()}");
    }

    /// <summary>Runs <c>ip ARGS</c> and returns its exit code (-1 when it ran over 10 s) and output.</summary>
    public static (int ExitCode, string Stdout, string Stderr) TryRun(params string[] arguments)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new HostLabException("cannot start 'ip'.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Limit))
        {
            process.Kill();
            process.WaitForExit();
            return (-1, string.Empty, "timed out");
        }

        return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}

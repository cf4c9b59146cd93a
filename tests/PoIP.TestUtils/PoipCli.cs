using System.Diagnostics;

namespace PoIP.TestUtils;

/// <summary>Starts the console sample (<c>dotnet poip.dll …</c>, built by the test project's reference to samples/PoIP.Node).</summary>
public static class PoipCli
{
    /// <summary>The built poip.dll of the same configuration as the running tests.</summary>
    /// <exception cref="FileNotFoundException">Not built.</exception>
    public static string Dll
    {
        get
        {
            string configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
            string path = Path.Combine(RepositoryPaths.Root, "samples", "PoIP.Node", "bin", configuration, "net10.0", "poip.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("poip.dll not built (the test project references samples/PoIP.Node)", path);
        }
    }

    /// <summary>Starts <c>dotnet poip.dll ARGS</c> with standard input, output and error redirected.</summary>
    public static Process Start(params string[] arguments) => Start(new ProcessStartInfo("dotnet"), arguments);

    /// <summary>
    /// Starts <c>dotnet poip.dll ARGS</c> with SIGINT at its default disposition (through coreutils'
    /// <c>env --default-signal=INT</c>, which execs, so the process id is poip's): a test runner started as a
    /// background job of a non-interactive shell (or under nohup) ignores SIGINT, its children inherit that, and .NET
    /// then leaves an inherited ignored SIGINT alone, so a test of poip's SIGINT handling would depend on how the
    /// tests were launched.
    /// </summary>
    public static Process StartWithDefaultSigint(params string[] arguments)
    {
        var start = new ProcessStartInfo("env");
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add("dotnet");
        return Start(start, arguments);
    }

    private static Process Start(ProcessStartInfo start, string[] arguments)
    {
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.ArgumentList.Add(Dll);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start poip");
    }

    /// <summary>Runs <c>dotnet poip.dll ARGS</c> to its end (killed when <paramref name="limit"/> passes) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(TimeSpan limit, params string[] arguments)
    {
        using var process = Start(arguments);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            string stdout = await process.StandardOutput.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, stdout, await stderr);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }
    }
}

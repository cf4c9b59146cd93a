using System.Diagnostics;
using System.Text;

namespace PoIP.Packaging.Tests;

/// <summary>Runs the dotnet CLI as a child process with a time limit, without MSBuild's inherited state.</summary>
internal static class DotnetCli
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, TimeSpan limit, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The test host runs under dotnet test: drop the MSBuild variables it inherits, keep no build
        // servers or nodes alive after the child ends, and let NuGet use its usual configuration.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k == "NUGET_PACKAGES").ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        process.StandardInput.Close();
        var output = new StringBuilder();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            output.Append(await process.StandardOutput.ReadToEndAsync(timeout.Token));
            output.Append(await stderr);
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, output.ToString());
        }
        catch (OperationCanceledException)
        {
            return (-1, $"dotnet {string.Join(' ', arguments)}: no exit within {limit}\n{output}");
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

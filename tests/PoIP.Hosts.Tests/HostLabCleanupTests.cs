using System.Diagnostics;
using System.Text.Json;
using PoIP.Node.Hosts;
using PoIP.TestUtils;

namespace PoIP.Hosts.Tests;

/// <summary>What a run leaves behind when it is interrupted or killed: <c>poip hosts up</c> as a separate process.</summary>
[Collection(HostLabGroup.Name)]
public sealed class HostLabCleanupTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [RootFact]
    public async Task Sweep_AfterARunWasKilled_RemovesItsNamespacesAndProcesses()
    {
        using var up = PoipCli.Start("hosts", "up", "--hosts", "2", "--json");
        var (run, namespaces) = await ReadHostsAsync(up);
        var pids = namespaces.SelectMany(PidsIn).ToList();
        Assert.NotEmpty(pids); // the p2p listeners inside

        up.Kill(entireProcessTree: false); // SIGKILL to the lab's process only: no handler runs
        await up.WaitForExitAsync();
        Assert.Equal(namespaces.Order(), HostLab.NamespacesStartingWith($"poip-{run}-").Order()); // left behind

        Assert.True(HostLab.Sweep() >= 2);

        Assert.Empty(HostLab.NamespacesStartingWith($"poip-{run}-"));
        Assert.False(File.Exists($"/run/poip-hosts/{run}.lock"));
        foreach (int pid in pids)
        {
            Assert.False(IsRunning(pid), $"process {pid} of the killed run still runs");
        }
    }

    [RootFact]
    public async Task Sweep_WhileARunIsAlive_LeavesItAlone()
    {
        using var up = PoipCli.Start("hosts", "up", "--hosts", "1", "--json");
        var (run, namespaces) = await ReadHostsAsync(up);

        HostLab.Sweep();

        Assert.Equal(namespaces, HostLab.NamespacesStartingWith($"poip-{run}-"));
        up.StandardInput.Close(); // stdin closed: it removes its own
        using var timeout = new CancellationTokenSource(Limit);
        await up.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, up.ExitCode);
        Assert.Empty(HostLab.NamespacesStartingWith($"poip-{run}-"));
    }

    [RootFact]
    public async Task HostsUp_Sigint_RemovesEverythingAndExits0()
    {
        using var up = PoipCli.StartWithDefaultSigint("hosts", "up", "--hosts", "2", "--json");
        var (run, namespaces) = await ReadHostsAsync(up);
        var pids = namespaces.SelectMany(PidsIn).ToList();

        using (var kill = Process.Start("kill", ["-INT", up.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(Limit);
        await up.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, up.ExitCode);
        Assert.Empty(HostLab.NamespacesStartingWith($"poip-{run}-"));
        Assert.False(File.Exists($"/run/poip-hosts/{run}.lock"));
        Assert.All(pids, pid => Assert.False(IsRunning(pid)));
    }

    [RootFact]
    public async Task HostsUp_NotRoot_SaysItNeedsRootAndExits2()
    {
        // The same command as an unprivileged user (nobody).
        var start = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetTempPath() };
        foreach (string argument in (string[])["--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", PoipCli.Dll, "hosts", "up"])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(Limit);
        string stderr = await process.StandardError.ReadToEndAsync(timeout.Token);
        string stdout = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(2, process.ExitCode);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal("error: poip hosts up needs root (network namespaces and TUN devices): run it as root, e.g. with sudo.", stderr.Trim());
    }

    private static async Task<(string Run, List<string> Namespaces)> ReadHostsAsync(Process up)
    {
        _ = up.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Limit);
        string line = await up.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("hosts up printed nothing");
        var json = JsonDocument.Parse(line).RootElement;
        return (json.GetProperty("run").GetString()!, [.. json.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("namespace").GetString()!)]);
    }

    private static IEnumerable<int> PidsIn(string name) =>
        IpCommand.Run("netns", "pids", name).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse);

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.WaitForExit(TimeSpan.FromSeconds(5));
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace PoIP.Node.Hosts;

/// <summary>
/// Many hosts on one Linux machine: each host is a network namespace named <c>poip-RUN-NAME</c> (RUN:
/// six hex digits unique to this run) with only a loopback and one TUN interface <c>eth0</c> holding
/// its address on a private /24 picked for this run; a user-space switch in this process
/// (<see cref="PacketSwitch"/>) links the hosts with per-link delay, loss and partitions. Processes run
/// inside a host with <c>ip netns exec</c>, each with its own folder (key file, data).
/// <para>
/// Cleanup: <see cref="DisposeAsync"/> (also on failure), SIGINT/SIGTERM (the run's
/// <see cref="Stopping"/> token is cancelled, then everything is removed; a second signal removes it at
/// once and exits 130), and process exit remove every process, device, namespace and folder the run
/// made. A run that was killed (SIGKILL) loses its TUN devices with its file descriptors; its
/// namespaces and processes are removed by the startup sweep of the next run: each run holds an
/// exclusive lock on <c>/run/poip-hosts/RUN.lock</c>, and a run whose lock is free is dead.
/// </para>
/// Needs root (network namespaces, TUN devices) and iproute2's <c>ip</c>.
/// </summary>
internal sealed partial class HostLab : IAsyncDisposable
{
    /// <summary>Every namespace of every run starts with this.</summary>
    public const string Prefix = "poip-";

    /// <summary>Most hosts in one run.</summary>
    public const int MaxHosts = 64;

    private const string LockFolder = "/run/poip-hosts";
    private readonly Lock _lock = new();
    private readonly List<LabHost> _hosts = [];
    private readonly List<Process> _processes = [];
    private readonly List<IDisposable> _signals = [];
    private readonly PacketSwitch _switch = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly FileStream _runLock;
    private readonly string _root;
    private readonly byte _subnetSecond;
    private readonly byte _subnetThird;
    private int _cleaned;
    private int _signalled;

    private HostLab(string runId, FileStream runLock, byte second, byte third, string root)
    {
        RunId = runId;
        _runLock = runLock;
        _subnetSecond = second;
        _subnetThird = third;
        _root = root;
    }

    /// <summary>This run's id (six hex digits).</summary>
    public string RunId { get; }

    /// <summary>This run's namespaces start with this.</summary>
    public string RunPrefix => $"{Prefix}{RunId}-";

    /// <summary>The lab's /24, e.g. <c>10.83.17.0/24</c>.</summary>
    public string Subnet => $"10.{_subnetSecond}.{_subnetThird}.0/24";

    /// <summary>The hosts made so far.</summary>
    public IReadOnlyList<LabHost> Hosts
    {
        get
        {
            lock (_lock)
            {
                return [.. _hosts];
            }
        }
    }

    /// <summary>Cancelled when SIGINT or SIGTERM arrives (the run should stop; cleanup follows).</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Packets the switch forwarded and dropped so far.</summary>
    public (long Forwarded, long Dropped) Traffic => (_switch.Forwarded, _switch.Dropped);

    /// <summary>Why this machine cannot run a lab (null when it can): not root, not Linux, no <c>ip</c>, no <c>/dev/net/tun</c>.</summary>
    public static string? Unsupported() =>
        !OperatingSystem.IsLinux() ? "needs Linux (network namespaces)"
        : !Environment.IsPrivilegedProcess ? "needs root (network namespaces and TUN devices): run it as root, e.g. with sudo"
        : !IpCommand.Available ? "needs iproute2's 'ip' on the PATH"
        : !File.Exists("/dev/net/tun") ? "needs /dev/net/tun (TUN devices)"
        : null;

    /// <summary>Sweeps leftovers of dead runs, then makes a new, empty run.</summary>
    /// <param name="handleSignals">Clean up on SIGINT/SIGTERM (commands: true; tests inside a test host: false).</param>
    /// <exception cref="HostLabException">Not supported here (code <see cref="HostLabException.NeedsRoot"/> when not root), or the setup failed.</exception>
    public static HostLab Create(bool handleSignals = true)
    {
        if (Unsupported() is { } why)
        {
            throw new HostLabException(why, Environment.IsPrivilegedProcess ? "hosts.unsupported" : HostLabException.NeedsRoot);
        }

        Sweep();
        Directory.CreateDirectory(LockFolder);
        for (int attempt = 0; attempt < 16; attempt++)
        {
            string runId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
            string lockPath = Path.Combine(LockFolder, runId + ".lock");
            if (File.Exists(lockPath) || NamespacesOf(runId).Count > 0)
            {
                continue;
            }

            var runLock = new FileStream(lockPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
            var (second, third) = PickSubnet();
            string root = Directory.CreateTempSubdirectory($"poip-hosts-{runId}-").FullName;
            var lab = new HostLab(runId, runLock, second, third, root);
            if (handleSignals)
            {
                lab.HandleSignals();
            }

            AppDomain.CurrentDomain.ProcessExit += (_, _) => lab.Cleanup();
            return lab;
        }

        throw new HostLabException("could not pick an unused run id.");
    }

    /// <summary>
    /// Removes what dead runs left: every namespace <c>poip-RUN-…</c> whose run holds no lock (its
    /// processes are killed first), and their lock files. Live runs (this one included) are untouched.
    /// </summary>
    /// <returns>The namespaces removed.</returns>
    public static int Sweep()
    {
        int removed = 0;
        foreach (var run in ListNamespaces().Select(RunOf).OfType<string>().Distinct().ToList())
        {
            string lockPath = Path.Combine(LockFolder, run + ".lock");
            FileStream? probe = null;
            try
            {
                if (File.Exists(lockPath))
                {
                    probe = new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                }
            }
            catch (IOException)
            {
                continue; // its run is alive
            }

            using (probe)
            {
                foreach (string name in NamespacesOf(run))
                {
                    KillProcessesIn(name);
                    if (IpCommand.TryRun("netns", "delete", name).ExitCode == 0)
                    {
                        removed++;
                    }
                }

                if (probe is not null)
                {
                    File.Delete(lockPath);
                }
            }
        }

        return removed;
    }

    /// <summary>The namespaces whose names start with <paramref name="prefix"/> (any run's, or one run's).</summary>
    public static IReadOnlyList<string> NamespacesStartingWith(string prefix) => [.. ListNamespaces().Where(n => n.StartsWith(prefix, StringComparison.Ordinal))];

    /// <summary>Makes a host: its namespace, its TUN interface with the next address, its folder.</summary>
    /// <param name="name">Lower-case letters, digits and '-', 1 to 24 characters, unique in the run.</param>
    /// <exception cref="HostLabException">A namespace command failed.</exception>
    public LabHost AddHost(string name)
    {
        if (!HostName().IsMatch(name))
        {
            throw new ArgumentException($"host name '{name}' must be 1-24 of a-z, 0-9 and '-'.", nameof(name));
        }

        ObjectDisposedException.ThrowIf(_cleaned != 0, this);
        LabHost host;
        lock (_lock)
        {
            if (_hosts.Count >= MaxHosts || _hosts.Any(h => h.Name == name))
            {
                throw new ArgumentException($"host '{name}' exists or the run has {MaxHosts} hosts.", nameof(name));
            }

            var address = new IPAddress([10, _subnetSecond, _subnetThird, (byte)(_hosts.Count + 2)]);
            string folder = Path.Combine(_root, name);
            Directory.CreateDirectory(folder);
            host = new LabHost(name, RunPrefix + name, address, folder);
            _hosts.Add(host);
        }

        IpCommand.Run("netns", "add", host.Namespace);
        IpCommand.Run("-n", host.Namespace, "link", "set", "lo", "up");
        var device = TunDevice.Create(host.Namespace, "eth0");
        _switch.Attach(host.Address, device);
        IpCommand.Run("-n", host.Namespace, "addr", "add", $"{host.Address}/24", "dev", "eth0");
        IpCommand.Run("-n", host.Namespace, "link", "set", "eth0", "up");
        return host;
    }

    /// <summary>Sets the link of <paramref name="host"/> (delay and loss apply on both directions of its link).</summary>
    public void SetLink(LabHost host, LinkSettings settings) => _switch.Configure(host.Address, settings);

    /// <summary>Cuts <paramref name="host"/> off: every packet to or from it is dropped, silently (no reset, no ICMP).</summary>
    public void Partition(LabHost host) => _switch.Configure(host.Address, _switch.SettingsOf(host.Address) with { Partitioned = true });

    /// <summary>Reconnects <paramref name="host"/> with its previous delay and loss.</summary>
    public void Heal(LabHost host) => _switch.Configure(host.Address, _switch.SettingsOf(host.Address) with { Partitioned = false });

    /// <summary>Cuts <paramref name="host"/> off from <paramref name="other"/> only: packets between the two are dropped, both ways; each still reaches every other host.</summary>
    public void Partition(LabHost host, LabHost other) => _switch.Cut(host.Address, other.Address);

    /// <summary>Mends the cut between <paramref name="host"/> and <paramref name="other"/>.</summary>
    public void Heal(LabHost host, LabHost other) => _switch.Mend(host.Address, other.Address);

    /// <summary>The start info of <paramref name="program"/> run inside <paramref name="host"/> (<c>ip netns exec</c>), in its folder.</summary>
    public ProcessStartInfo StartInfo(LabHost host, string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = host.Directory,
        };
        foreach (string argument in (string[])["netns", "exec", host.Namespace, program, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    /// <summary>Starts a process inside <paramref name="host"/> that the run kills at cleanup.</summary>
    public Process StartProcess(LabHost host, string program, IEnumerable<string> arguments)
    {
        ObjectDisposedException.ThrowIf(_cleaned != 0, this);
        var process = Process.Start(StartInfo(host, program, arguments)) ?? throw new HostLabException($"cannot start {program} in {host.Namespace}.");
        lock (_lock)
        {
            _processes.Add(process);
        }

        return process;
    }

    /// <summary>Starts a process inside <paramref name="host"/> with its output collected (see <see cref="LabProcess"/>).</summary>
    public LabProcess Start(LabHost host, string program, IEnumerable<string> arguments) => new(host, StartProcess(host, program, arguments));

    /// <summary>Starts this same poip executable inside <paramref name="host"/>.</summary>
    public LabProcess StartPoip(LabHost host, IEnumerable<string> arguments)
    {
        var (program, prefix) = SelfCommand.Resolve();
        return Start(host, program, [.. prefix, .. arguments]);
    }

    /// <summary>Removes everything the run made (idempotent).</summary>
    public ValueTask DisposeAsync()
    {
        Cleanup();
        return ValueTask.CompletedTask;
    }

    private static string? RunOf(string name)
    {
        var match = RunName().Match(name);
        return match.Success ? match.Groups[1].Value : null;
    }

    private static List<string> NamespacesOf(string run) => [.. ListNamespaces().Where(n => RunOf(n) == run)];

    private static List<string> ListNamespaces() =>
        Directory.Exists("/run/netns") ? [.. Directory.EnumerateFiles("/run/netns").Select(Path.GetFileName).OfType<string>().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))] : [];

    private static void KillProcessesIn(string name)
    {
        var (exit, stdout, _) = IpCommand.TryRun("netns", "pids", name);
        if (exit != 0)
        {
            return;
        }

        foreach (string line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid != Environment.ProcessId)
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(TimeSpan.FromSeconds(5));
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // already gone
                }
            }
        }
    }

    /// <summary>A 10.X.Y.0/24 that no interface or route of this (the root) namespace uses.</summary>
    private static (byte Second, byte Third) PickSubnet()
    {
        string used = IpCommand.TryRun("-4", "addr").Stdout + IpCommand.TryRun("-4", "route").Stdout;
        for (int attempt = 0; attempt < 64; attempt++)
        {
            byte[] pick = RandomNumberGenerator.GetBytes(2);
            byte second = (byte)(64 + (pick[0] % 128)), third = pick[1];
            if (!used.Contains($"10.{second}.", StringComparison.Ordinal) && !used.Contains("10.0.0.0/8", StringComparison.Ordinal))
            {
                return (second, third);
            }
        }

        throw new HostLabException("no free 10.X.Y.0/24 found for the lab.");
    }

    private void HandleSignals()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            _signals.Add(PosixSignalRegistration.Create(signal, context =>
            {
                if (Interlocked.Increment(ref _signalled) == 1)
                {
                    context.Cancel = true; // let the run unwind; its finally blocks call DisposeAsync
                    _stopping.Cancel();
                    return;
                }

                context.Cancel = true;
                Cleanup();
                Environment.Exit(130);
            }));
        }
    }

    private void Cleanup()
    {
        if (Interlocked.Exchange(ref _cleaned, 1) != 0)
        {
            return;
        }

        List<Process> processes;
        List<LabHost> hosts;
        lock (_lock)
        {
            processes = [.. _processes];
            hosts = [.. _hosts];
        }

        foreach (var process in processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(TimeSpan.FromSeconds(5));
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // already gone
            }
        }

        foreach (var host in hosts)
        {
            KillProcessesIn(host.Namespace); // anything a child started there
        }

        _switch.Dispose();
        foreach (var host in hosts)
        {
            IpCommand.TryRun("netns", "delete", host.Namespace);
        }

        foreach (var signal in _signals)
        {
            signal.Dispose();
        }

        string lockPath = _runLock.Name;
        _runLock.Dispose();
        File.Delete(lockPath);
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // a file still open by a dying child: the temp folder stays
        }
    }

    [GeneratedRegex("^[a-z0-9-]{1,24}$")]
    private static partial Regex HostName();

    [GeneratedRegex("^poip-([0-9a-f]{6})-[a-z0-9-]{1,24}$")]
    private static partial Regex RunName();
}

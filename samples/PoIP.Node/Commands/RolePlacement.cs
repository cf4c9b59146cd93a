using System.Diagnostics;
using PoIP.Node.Hosts;

namespace PoIP.Node.Commands;

/// <summary>Where the demo's role processes run: each role gets its own folder (key file, data), a listen address, and is started there.</summary>
internal interface IRolePlacement
{
    /// <summary>The role's own folder (its key file and data directory).</summary>
    string FolderOf(string role);

    /// <summary>The address a serving role listens on.</summary>
    string ListenAddressOf(string role);

    /// <summary>Starts this poip executable as <paramref name="role"/> with <paramref name="arguments"/>, standard streams redirected, in the role's folder.</summary>
    Process Start(string role, IReadOnlyList<string> arguments);
}

/// <summary><c>--separate-processes</c>: every role a process on this host (loopback, an ephemeral port), in its own folder under the run's data directory.</summary>
internal sealed class LocalPlacement(string data) : IRolePlacement
{
    public string FolderOf(string role) => Directory.CreateDirectory(Path.Combine(data, role)).FullName;

    public string ListenAddressOf(string role) => "/ip4/127.0.0.1/tcp/0";

    public Process Start(string role, IReadOnlyList<string> arguments)
    {
        var (program, prefix) = SelfCommand.Resolve();
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = FolderOf(role),
        };
        foreach (string argument in (string[])[.. prefix, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"could not start the {role} process.");
    }
}

/// <summary>
/// <c>--hosts</c>: every role in its own network namespace of a <see cref="HostLab"/>, listening on its own address.
/// With <c>oneHost</c> (the <c>network</c> benchmark's baseline): every role in one namespace (one host: traffic between
/// roles over its loopback), each with its own folder; the nodes and the validator listen on ephemeral ports.
/// </summary>
internal sealed class NamespacePlacement(HostLab lab, LinkSettings link, bool oneHost = false) : IRolePlacement
{
    /// <summary>The port every serving role listens on (each host has its own network stack).</summary>
    public const int Port = 4001;

    private const string SharedHost = "one-host";

    private readonly Dictionary<string, LabHost> _hosts = [];

    /// <summary>The hosts made so far, by role (with <c>oneHost</c>: every role's entry names the same namespace).</summary>
    public IReadOnlyDictionary<string, LabHost> Hosts => _hosts;

    public string FolderOf(string role) => HostOf(role).Directory;

    public string ListenAddressOf(string role) => HostOf(role).ListenAddress(oneHost ? 0 : Port);

    public Process Start(string role, IReadOnlyList<string> arguments)
    {
        var (program, prefix) = SelfCommand.Resolve();
        return lab.StartProcess(HostOf(role), program, [.. prefix, .. arguments]);
    }

    /// <summary>The role's host, made (with the run's link settings) on first use.</summary>
    public LabHost HostOf(string role)
    {
        lock (_hosts)
        {
            if (!_hosts.TryGetValue(role, out var host))
            {
                if (oneHost)
                {
                    var shared = lab.Hosts.FirstOrDefault(h => h.Name == SharedHost) ?? lab.AddHost(SharedHost);
                    host = shared with { Name = role, Directory = Directory.CreateDirectory(Path.Combine(shared.Directory, role)).FullName };
                }
                else
                {
                    host = lab.AddHost(role);
                    lab.SetLink(host, link);
                }

                _hosts[role] = host;
            }

            return host;
        }
    }
}

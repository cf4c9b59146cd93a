using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using PoIP.Node.Hosts;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class HostsUpSettings : CommandSettings
{
    [CommandOption("--hosts <N>")]
    [Description("Hosts (network namespaces) to make, 1-16. Default 2.")]
    public int Hosts { get; init; } = 2;

    [CommandOption("--delay-ms <MS>")]
    [Description("One-way delay of every host's link in milliseconds (0-1000; host to host adds two links). Default 0.")]
    public int DelayMs { get; init; }

    [CommandOption("--minutes <M>")]
    [Description("Tear down after M minutes at most (1-60). Default 10.")]
    public int Minutes { get; init; } = 10;

    [CommandOption("--json")]
    [Description("Print the hosts as one JSON line.")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        Hosts is < 1 or > 16 ? ValidationResult.Error("--hosts must be 1 to 16.")
        : DelayMs is < 0 or > 1000 ? ValidationResult.Error("--delay-ms must be 0 to 1000.")
        : Minutes is < 1 or > 60 ? ValidationResult.Error("--minutes must be 1 to 60.")
        : ValidationResult.Success();
}

/// <summary>
/// <c>poip hosts up</c>: makes N hosts (network namespaces on the lab's wire), runs <c>poip p2p
/// listen</c> in each, prints each host's namespace, address and multiaddr, and keeps them until
/// standard input closes, SIGINT/SIGTERM, or <c>--minutes</c>; then removes everything. Needs root.
/// </summary>
internal sealed class HostsUpCommand : AsyncCommand<HostsUpSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, HostsUpSettings settings, CancellationToken cancellationToken)
    {
        if (HostLab.Unsupported() is { } why)
        {
            await Console.Error.WriteLineAsync($"error: poip hosts up {why}.");
            return 2;
        }

        try
        {
            await using var lab = HostLab.Create();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lab.Stopping);
            stop.CancelAfter(TimeSpan.FromMinutes(settings.Minutes));
            var listeners = new List<LabProcess>();
            for (int i = 1; i <= settings.Hosts; i++)
            {
                var host = lab.AddHost(string.Create(CultureInfo.InvariantCulture, $"h{i}"));
                lab.SetLink(host, new LinkSettings(TimeSpan.FromMilliseconds(settings.DelayMs)));
                listeners.Add(lab.StartPoip(host, ["p2p", "listen", "--listen", host.ListenAddress(4001), "--key", host.KeyFile]));
            }

            var rows = new List<Dictionary<string, string>>();
            foreach (var listener in listeners)
            {
                string address = await listener.WaitForLineAsync(l => l.StartsWith("/ip4/", StringComparison.Ordinal), TimeSpan.FromSeconds(60), cancellationToken: stop.Token);
                rows.Add(new() { ["name"] = listener.Host.Name, ["namespace"] = listener.Host.Namespace, ["address"] = listener.Host.Address.ToString(), ["multiaddr"] = address });
            }

            if (settings.Json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["run"] = lab.RunId, ["subnet"] = lab.Subnet, ["hosts"] = rows }));
            }
            else
            {
                Console.WriteLine($"run {lab.RunId}, subnet {lab.Subnet}");
                foreach (var row in rows)
                {
                    Console.WriteLine($"{row["name"]} {row["namespace"]} {row["address"]} {row["multiaddr"]}");
                }
            }

            await Console.Out.FlushAsync(CancellationToken.None);
            await Console.Error.WriteLineAsync("hosts up: close standard input or press Ctrl+C to remove them.");
            var endOfInput = Task.Run(async () =>
            {
                var input = Console.OpenStandardInput();
                byte[] buffer = new byte[256];
                while (await input.ReadAsync(buffer, CancellationToken.None) > 0)
                {
                }
            }, CancellationToken.None);
            await Task.WhenAny(endOfInput, Task.Delay(Timeout.Infinite, stop.Token));
            return 0;
        }
        catch (OperationCanceledException)
        {
            return 0; // stopped by a signal or --minutes: the lab was removed on the way out
        }
        catch (Exception ex) when (ex is HostLabException or TimeoutException or IOException)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message);
            return 1;
        }
    }
}

internal sealed class HostsSweepSettings : CommandSettings
{
    [CommandOption("--json")]
    [Description("Print {\"removed\": N} as one JSON line.")]
    public bool Json { get; init; }
}

/// <summary><c>poip hosts sweep</c>: removes the namespaces (and their processes) of dead lab runs; live runs are untouched. Needs root.</summary>
internal sealed class HostsSweepCommand : Command<HostsSweepSettings>
{
    public override int Execute(CommandContext context, HostsSweepSettings settings, CancellationToken cancellationToken)
    {
        if (HostLab.Unsupported() is { } why)
        {
            Console.Error.WriteLine($"error: poip hosts sweep {why}.");
            return 2;
        }

        int removed = HostLab.Sweep();
        Console.WriteLine(settings.Json ? JsonSerializer.Serialize(new Dictionary<string, int> { ["removed"] = removed }) : $"removed {removed} namespace(s) of dead runs.");
        return 0;
    }
}

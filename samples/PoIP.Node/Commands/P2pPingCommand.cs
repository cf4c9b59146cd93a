using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using PoIP.Core.Identity;
using PoIP.Network;
using PoIP.Network.Addressing;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class P2pPingSettings : CommandSettings
{
    [CommandArgument(0, "<MULTIADDR>")]
    [Description("Peer address, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...")]
    public string Address { get; init; } = string.Empty;

    [CommandOption("--count <N>")]
    [Description("Number of pings (1-1000). Default 4.")]
    public int Count { get; init; } = 4;

    [CommandOption("--timeout <SECONDS>")]
    [Description("Most seconds for the dial and all pings together (1-600). Default 10.")]
    public int TimeoutSeconds { get; init; } = 10;

    [CommandOption("--json")]
    [Description("Print one JSON line: peer and each round trip in milliseconds.")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        Count is < 1 or > 1000 ? ValidationResult.Error("--count must be 1 to 1000.")
        : TimeoutSeconds is < 1 or > 600 ? ValidationResult.Error("--timeout must be 1 to 600 seconds.")
        : !Multiaddr.TryParse(Address, out var address) || address!.PeerId is null ? ValidationResult.Error($"'{Address}' is not a multiaddr ending in /p2p/<peer id>.")
        : ValidationResult.Success();
}

/// <summary><c>poip p2p ping MULTIADDR [--count N] [--timeout S] [--json]</c>: /ipfs/ping/1.0.0 round trips; exit 1 when the peer cannot be reached in time.</summary>
internal sealed class P2pPingCommand : AsyncCommand<P2pPingSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, P2pPingSettings settings, CancellationToken cancellationToken)
    {
        using var key = Ed25519KeyPair.Generate();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));
        await using var host = Libp2pHost.Create(new Libp2pHostOptions { Key = key, IdentifyOnConnect = false });
        var rtts = new List<double>();
        try
        {
            await host.StartAsync(timeout.Token);
            var connection = await host.DialAsync(Multiaddr.Parse(settings.Address), timeout.Token);
            if (!settings.Json)
            {
                Console.WriteLine($"connected to {connection.RemotePeer}");
            }

            for (int i = 0; i < settings.Count; i++)
            {
                var rtt = await connection.PingAsync(timeout.Token);
                rtts.Add(rtt.TotalMilliseconds);
                if (!settings.Json)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ping {i + 1}: {rtt.TotalMilliseconds:F3} ms"));
                }
            }

            await connection.CloseAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or Core.Errors.PoIPException or System.Net.Sockets.SocketException)
        {
            string why = ex is OperationCanceledException ? string.Create(CultureInfo.InvariantCulture, $"no answer within {settings.TimeoutSeconds} s") : ex.Message;
            await Console.Error.WriteLineAsync($"error: ping {settings.Address}: {why} ({rtts.Count} of {settings.Count} pings answered).");
            return 1;
        }

        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["peer"] = Multiaddr.Parse(settings.Address).PeerId!.Value.ToString(), ["rtt_ms"] = rtts.Select(r => Math.Round(r, 3)).ToList() }));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"min/avg/max = {rtts.Min():F3}/{rtts.Average():F3}/{rtts.Max():F3} ms"));
        }

        return 0;
    }
}

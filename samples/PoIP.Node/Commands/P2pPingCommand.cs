using System.ComponentModel;
using System.Globalization;
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
    [Description("Number of pings. Default 4.")]
    public int Count { get; init; } = 4;

    public override ValidationResult Validate() =>
        Count is < 1 or > 10_000 ? ValidationResult.Error("--count must be 1 to 10000.") : ValidationResult.Success();
}

/// <summary><c>poip p2p ping MULTIADDR [--count N]</c>: /ipfs/ping/1.0.0 round trips.</summary>
internal sealed class P2pPingCommand : AsyncCommand<P2pPingSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, P2pPingSettings settings, CancellationToken cancellationToken)
    {
        using var key = Ed25519KeyPair.Generate();
        await using var host = Libp2pHost.Create(new Libp2pHostOptions { Key = key, IdentifyOnConnect = false });
        await host.StartAsync(cancellationToken);
        var connection = await host.DialAsync(Multiaddr.Parse(settings.Address), cancellationToken);
        Console.WriteLine($"connected to {connection.RemotePeer}");
        var rtts = new List<double>();
        for (int i = 0; i < settings.Count; i++)
        {
            var rtt = await connection.PingAsync(cancellationToken);
            rtts.Add(rtt.TotalMilliseconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ping {i + 1}: {rtt.TotalMilliseconds:F3} ms"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"min/avg/max = {rtts.Min():F3}/{rtts.Average():F3}/{rtts.Max():F3} ms"));
        await connection.CloseAsync(cancellationToken);
        return 0;
    }
}

using System.ComponentModel;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class DhtServeSettings : DhtSettings
{
    [CommandOption("--listen <MULTIADDR>")]
    [Description("Address to listen on (repeatable). Default /ip4/127.0.0.1/tcp/0.")]
    public string[] Listen { get; init; } = [];

    protected override bool NeedsBootstrap => false;

    public override ValidationResult Validate()
    {
        foreach (string l in Listen)
        {
            if (!Multiaddr.TryParse(l, out var address) || !address!.ToString().Contains("/tcp/", StringComparison.Ordinal))
            {
                return ValidationResult.Error($"--listen '{l}' is not a TCP multiaddr (e.g. /ip4/127.0.0.1/tcp/4001).");
            }
        }

        return base.Validate();
    }
}

/// <summary><c>poip dht serve</c>: a DHT server; prints its full multiaddr (with /p2p/) first, serves until stopped.</summary>
internal sealed class DhtServeCommand : AsyncCommand<DhtServeSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, DhtServeSettings settings, CancellationToken cancellationToken)
    {
        (Core.Identity.Ed25519KeyPair, Network.Libp2pHost, KademliaDht) started;
        try
        {
            started = await DhtCli.StartAsync(settings, settings.Listen.Length == 0 ? ["/ip4/127.0.0.1/tcp/0"] : settings.Listen, DhtMode.Server, cancellationToken);
        }
        catch (Exception ex) when (DhtCli.IsNetworkFailure(ex))
        {
            await Console.Error.WriteLineAsync($"error: dht serve: {ex.Message}");
            return ExitCodes.Fault;
        }

        var (_, host, dht) = started;
        foreach (var address in host.ListenAddresses)
        {
            Console.WriteLine(address);
        }

        Console.Out.Flush();
        Console.Error.WriteLine($"serving {settings.Protocol}; {dht.RoutingTableSize} peers in the routing table; Ctrl+C to stop");
        await DhtCli.ServeUntilStoppedAsync(cancellationToken);
        await DhtCli.StopAsync(started);
        return ExitCodes.Ok;
    }
}

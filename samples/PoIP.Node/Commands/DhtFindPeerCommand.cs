using System.ComponentModel;
using System.Text.Json;
using PoIP.Core.Identity;
using PoIP.Network.Kademlia;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class DhtFindPeerSettings : DhtSettings
{
    [CommandArgument(0, "<PEER>")]
    [Description("The peer id to find (12D3KooW...).")]
    public string Peer { get; init; } = string.Empty;

    [CommandOption("--json")]
    [Description("Print one JSON line: peer, found and addresses.")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        !PeerId.TryParse(Peer, out _) ? ValidationResult.Error($"PEER '{Peer}' is not a peer id.")
        : base.Validate();
}

/// <summary><c>poip dht find-peer PEER --bootstrap MA [--json]</c>: a peer's addresses (exit 1 when no lookup finds it).</summary>
internal sealed class DhtFindPeerCommand : AsyncCommand<DhtFindPeerSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, DhtFindPeerSettings settings, CancellationToken cancellationToken)
    {
        var peer = PeerId.Parse(settings.Peer);
        DhtPeerInfo? found;
        try
        {
            var started = await DhtCli.StartAsync(settings, [], DhtMode.Client, cancellationToken);
            try
            {
                found = await started.Dht.FindPeerAsync(peer, cancellationToken);
            }
            finally
            {
                await DhtCli.StopAsync(started);
            }
        }
        catch (Exception ex) when (DhtCli.IsNetworkFailure(ex))
        {
            await Console.Error.WriteLineAsync($"error: dht find-peer: {ex.Message}");
            return ExitCodes.Fault;
        }

        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["peer"] = peer.ToString(),
                ["found"] = found is not null,
                ["addresses"] = found?.Addresses.Select(a => a.ToString()).ToList() ?? [],
            }));
        }
        else if (found is not null)
        {
            Console.WriteLine($"{peer} {string.Join(' ', found.Addresses)}");
        }

        if (found is null)
        {
            await Console.Error.WriteLineAsync($"error: dht find-peer: no lookup found {peer}.");
            return ExitCodes.Fault;
        }

        return ExitCodes.Ok;
    }
}

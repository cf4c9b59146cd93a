using System.ComponentModel;
using System.Text.Json;
using PoIP.Network.Kademlia;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class DhtProvidersSettings : DhtSettings
{
    [CommandArgument(0, "<KEY>")]
    [Description("A ModelId in hex (64 digits) or a sha2-256 multihash in hex (1220 + 64 digits).")]
    public string Key { get; init; } = string.Empty;

    [CommandOption("--max <N>")]
    [Description("Most providers to return (1-1000). Default 20.")]
    public int Max { get; init; } = 20;

    [CommandOption("--json")]
    [Description("Print one JSON line: key and providers with their addresses.")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        !DhtCli.TryParseKey(Key, out _) ? ValidationResult.Error($"KEY '{Key}' is neither a ModelId (64 hex digits) nor a sha2-256 multihash (1220 + 64 hex digits).")
        : Max is < 1 or > 1000 ? ValidationResult.Error("--max must be 1 to 1000.")
        : base.Validate();
}

/// <summary><c>poip dht providers KEY --bootstrap MA [--json]</c>: the providers of a key (a client-mode lookup).</summary>
internal sealed class DhtProvidersCommand : AsyncCommand<DhtProvidersSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, DhtProvidersSettings settings, CancellationToken cancellationToken)
    {
        byte[] key = DhtCli.ParseKey(settings.Key);
        IReadOnlyList<DhtPeerInfo> providers;
        try
        {
            var started = await DhtCli.StartAsync(settings, [], DhtMode.Client, cancellationToken);
            try
            {
                providers = await started.Dht.FindProvidersAsync(key, settings.Max, cancellationToken);
            }
            finally
            {
                await DhtCli.StopAsync(started);
            }
        }
        catch (Exception ex) when (DhtCli.IsNetworkFailure(ex))
        {
            await Console.Error.WriteLineAsync($"error: dht providers: {ex.Message}");
            return ExitCodes.Fault;
        }

        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["key"] = Convert.ToHexStringLower(key),
                ["providers"] = providers.Select(p => new Dictionary<string, object> { ["peer"] = p.Peer.ToString(), ["addresses"] = p.Addresses.Select(a => a.ToString()).ToList() }).ToList(),
            }));
        }
        else
        {
            Console.WriteLine($"{providers.Count} provider(s) of {Convert.ToHexStringLower(key)}");
            foreach (var p in providers)
            {
                Console.WriteLine($"{p.Peer} {string.Join(' ', p.Addresses)}");
            }
        }

        return ExitCodes.Ok;
    }
}

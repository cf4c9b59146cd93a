using System.ComponentModel;
using PoIP.Network.Kademlia;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class DhtProvideSettings : DhtSettings
{
    [CommandArgument(0, "<KEY>")]
    [Description("A ModelId in hex (64 digits) or a sha2-256 multihash in hex (1220 + 64 digits).")]
    public string Key { get; init; } = string.Empty;

    public override ValidationResult Validate() =>
        !DhtCli.TryParseKey(Key, out _) ? ValidationResult.Error($"KEY '{Key}' is neither a ModelId (64 hex digits) nor a sha2-256 multihash (1220 + 64 hex digits).")
        : base.Validate();
}

/// <summary><c>poip dht provide KEY --bootstrap MA</c>: announces this peer as a provider, then keeps serving (and republishing) until stopped.</summary>
internal sealed class DhtProvideCommand : AsyncCommand<DhtProvideSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, DhtProvideSettings settings, CancellationToken cancellationToken)
    {
        byte[] key = DhtCli.ParseKey(settings.Key);
        (Core.Identity.Ed25519KeyPair, Network.Libp2pHost, KademliaDht) started;
        int sent;
        try
        {
            started = await DhtCli.StartAsync(settings, ["/ip4/127.0.0.1/tcp/0"], DhtMode.Server, cancellationToken);
        }
        catch (Exception ex) when (DhtCli.IsNetworkFailure(ex))
        {
            await Console.Error.WriteLineAsync($"error: dht provide: {ex.Message}");
            return ExitCodes.Fault;
        }

        try
        {
            sent = await started.Item3.ProvideAsync(key, cancellationToken);
        }
        catch (Exception ex) when (DhtCli.IsNetworkFailure(ex))
        {
            await DhtCli.StopAsync(started);
            await Console.Error.WriteLineAsync($"error: dht provide: {ex.Message}");
            return ExitCodes.Fault;
        }

        Console.WriteLine(started.Item2.ListenAddresses[0]);
        Console.WriteLine($"providing {Convert.ToHexStringLower(key)} (sent to {sent} peers); Ctrl+C to stop");
        Console.Out.Flush();
        await DhtCli.ServeUntilStoppedAsync(cancellationToken);
        await DhtCli.StopAsync(started);
        return ExitCodes.Ok;
    }
}

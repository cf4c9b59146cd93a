using System.ComponentModel;
using PoIP.Core.Identity;
using PoIP.Network;
using PoIP.Network.Addressing;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class P2pListenSettings : CommandSettings
{
    [CommandOption("--listen <MULTIADDR>")]
    [Description("Address to listen on (repeatable). Default /ip4/127.0.0.1/tcp/0.")]
    public string[] Listen { get; init; } = [];

    [CommandOption("--key <FILE>")]
    [Description("Identity key file (created with mode 0600 when absent). Default: a fresh key for this run.")]
    public string? KeyFile { get; init; }
}

/// <summary><c>poip p2p listen</c>: prints its full multiaddr first, then serves identify, ping and perf until stopped.</summary>
internal sealed class P2pListenCommand : AsyncCommand<P2pListenSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, P2pListenSettings settings, CancellationToken cancellationToken)
    {
        using var key = settings.KeyFile is null ? Ed25519KeyPair.Generate() : KeyFile.ReadOrCreate(settings.KeyFile);
        var options = new Libp2pHostOptions { Key = key };
        foreach (string address in settings.Listen.Length == 0 ? ["/ip4/127.0.0.1/tcp/0"] : settings.Listen)
        {
            options.ListenAddresses.Add(Multiaddr.Parse(address));
        }

        await using var host = Libp2pHost.Create(options);
        host.ConnectionOpened += (_, e) => Console.Error.WriteLine($"connected: {e.Connection.RemotePeer} ({e.Connection.RemoteAddress})");
        host.ConnectionClosed += (_, e) => Console.Error.WriteLine($"disconnected: {e.Connection.RemotePeer}");
        await host.StartAsync(cancellationToken);
        foreach (var address in host.ListenAddresses)
        {
            Console.WriteLine(address);
        }

        Console.Out.Flush();
        Console.Error.WriteLine($"serving {string.Join(", ", host.Protocols)}; Ctrl+C to stop");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // stopped
        }

        return 0;
    }
}

using System.ComponentModel;
using System.Runtime.InteropServices;
using PoIP.Core.Identity;
using PoIP.Network;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia;
using PoIP.Network.Transactions;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

/// <summary>Options every <c>poip dht</c> command shares.</summary>
internal class DhtSettings : CommandSettings
{
    [CommandOption("--bootstrap <MULTIADDR>")]
    [Description("A DHT peer to start from, with /p2p/ (repeatable).")]
    public string[] Bootstrap { get; init; } = [];

    [CommandOption("--protocol <ID>")]
    [Description("kad-dht protocol id: /poip/kad/1.0.0 (default, PoIP's network) or /ipfs/kad/1.0.0 (the public one).")]
    public string Protocol { get; init; } = "/poip/kad/1.0.0";

    /// <summary>True for commands that cannot work without a bootstrap peer.</summary>
    protected virtual bool NeedsBootstrap => true;

    public override ValidationResult Validate()
    {
        if (!Protocol.StartsWith('/') || Protocol.Length > 128 || Protocol.Any(char.IsWhiteSpace))
        {
            return ValidationResult.Error($"--protocol '{Protocol}' is not a protocol id (e.g. /poip/kad/1.0.0).");
        }

        if (NeedsBootstrap && Bootstrap.Length == 0)
        {
            return ValidationResult.Error("--bootstrap is required (a DHT peer's multiaddr with /p2p/).");
        }

        foreach (string b in Bootstrap)
        {
            if (!Multiaddr.TryParse(b, out var address) || address!.PeerId is null)
            {
                return ValidationResult.Error($"--bootstrap '{b}' is not a multiaddr ending in /p2p/<peer id>.");
            }
        }

        return ValidationResult.Success();
    }
}

/// <summary>Shared plumbing of the <c>poip dht</c> commands.</summary>
internal static class DhtCli
{
    /// <summary>Starts a host and a DHT on it, bootstrapped from the settings' peers.</summary>
    public static async Task<(Ed25519KeyPair Key, Libp2pHost Host, KademliaDht Dht)> StartAsync(DhtSettings settings, IEnumerable<string> listen, DhtMode mode, CancellationToken cancellationToken)
    {
        var key = Ed25519KeyPair.Generate();
        var hostOptions = new Libp2pHostOptions { Key = key };
        foreach (string address in listen)
        {
            hostOptions.ListenAddresses.Add(Multiaddr.Parse(address));
        }

        var host = Libp2pHost.Create(hostOptions);
        var options = new KademliaOptions { ProtocolId = settings.Protocol, Mode = mode }.UsePoIPRecords(); // a serving peer carries PoIP's records too
        foreach (string b in settings.Bootstrap)
        {
            options.BootstrapPeers.Add(Multiaddr.Parse(b));
        }

        KademliaDht? dht = null;
        try
        {
            await host.StartAsync(cancellationToken);
            dht = KademliaDht.Create(host, options);
            await dht.StartAsync(cancellationToken);
            if (settings.Bootstrap.Length > 0 && dht.BootstrapPeersAnswered == 0)
            {
                throw new IOException("no bootstrap peer answered");
            }

            return (key, host, dht);
        }
        catch
        {
            if (dht is not null)
            {
                await dht.DisposeAsync();
            }

            await host.DisposeAsync();
            key.Dispose();
            throw;
        }
    }

    public static async Task StopAsync((Ed25519KeyPair Key, Libp2pHost Host, KademliaDht Dht) started)
    {
        await started.Dht.DisposeAsync();
        await started.Host.DisposeAsync();
        started.Key.Dispose();
    }

    /// <summary>
    /// A provider key: a ModelId (64 hex digits, the SHA-256 of a GGUF), made the sha2-256 multihash
    /// standard peers accept as a CID, or that multihash itself (<c>1220</c> + 64 hex digits).
    /// </summary>
    public static bool TryParseKey(string text, out byte[] key)
    {
        key = [];
        if (text.Length == 64 && IsHex(text))
        {
            key = [0x12, 0x20, .. Convert.FromHexString(text)];
            return true;
        }

        if (text.Length == 68 && text.StartsWith("1220", StringComparison.OrdinalIgnoreCase) && IsHex(text))
        {
            key = Convert.FromHexString(text);
            return true;
        }

        return false;
    }

    /// <summary>The key of an already validated KEY argument.</summary>
    /// <exception cref="UsageException">It is not a key.</exception>
    public static byte[] ParseKey(string text) =>
        TryParseKey(text, out byte[] key) ? key : throw new UsageException($"KEY '{text}' is neither a ModelId nor a sha2-256 multihash.");

    private static bool IsHex(string s) => s.All(Uri.IsHexDigit);

    /// <summary>Waits until Ctrl+C or SIGTERM.</summary>
    public static async Task ServeUntilStoppedAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    public static bool IsNetworkFailure(Exception ex) =>
        ex is OperationCanceledException or IOException or Core.Errors.PoIPException or System.Net.Sockets.SocketException;
}

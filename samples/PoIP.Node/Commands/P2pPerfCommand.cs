using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using PoIP.Core.Identity;
using PoIP.Network;
using PoIP.Network.Addressing;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class P2pPerfSettings : CommandSettings
{
    [CommandArgument(0, "<MULTIADDR>")]
    [Description("Peer address serving /perf/1.0.0.")]
    public string Address { get; init; } = string.Empty;

    [CommandOption("--upload-bytes <N>")]
    [Description("Bytes to send. Default 0.")]
    public long UploadBytes { get; init; }

    [CommandOption("--download-bytes <N>")]
    [Description("Bytes to ask back. Default 0.")]
    public long DownloadBytes { get; init; }

    [CommandOption("--json")]
    [Description("Print one JSON object.")]
    public bool Json { get; init; }
}

/// <summary><c>poip p2p perf MULTIADDR --upload-bytes N --download-bytes N [--json]</c> (libp2p perf protocol).</summary>
internal sealed class P2pPerfCommand : AsyncCommand<P2pPerfSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, P2pPerfSettings settings, CancellationToken cancellationToken)
    {
        using var key = Ed25519KeyPair.Generate();
        var options = new Libp2pHostOptions { Key = key, IdentifyOnConnect = false };
        options.Yamux.MaxStreamWindow = 16 * 1024 * 1024;
        await using var host = Libp2pHost.Create(options);
        await host.StartAsync(cancellationToken);
        var connection = await host.DialAsync(Multiaddr.Parse(settings.Address), cancellationToken);
        var result = await connection.PerfAsync(settings.UploadBytes, settings.DownloadBytes, cancellationToken);
        double seconds = result.TotalTime.TotalSeconds;
        double gbits = (result.UploadBytes + result.DownloadBytes) * 8 / seconds / 1e9;
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                peer = connection.RemotePeer.ToString(),
                upload_bytes = result.UploadBytes,
                download_bytes = result.DownloadBytes,
                upload_seconds = result.UploadTime.TotalSeconds,
                total_seconds = seconds,
                gbit_s = Math.Round(gbits, 3),
            }));
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"uploaded {result.UploadBytes} B, downloaded {result.DownloadBytes} B in {seconds:F3} s ({gbits:F3} Gbit/s)"));
        }

        await connection.CloseAsync(cancellationToken);
        return 0;
    }
}

using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Ledger;
using PoIP.Core.Protocol;
using PoIP.Network;
using PoIP.Network.Addressing;
using PoIP.Network.Kademlia;
using PoIP.Network.Transactions;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class DhtRecordsSettings : CommandSettings
{
    [CommandArgument(0, "<REQUEST-ID>")]
    [Description("The request id (hex SHA-256 of the signed request, as 'client ask --json' prints it).")]
    public string RequestId { get; init; } = string.Empty;

    [CommandOption("--bootstrap <MULTIADDR>")]
    [Description("A DHT peer, ending in /p2p/<peer id> (repeatable; at least one).")]
    public string[] Bootstrap { get; init; } = [];

    [CommandOption("--protocol <ID>")]
    [Description("DHT protocol id. Default /poip/kad/1.0.0.")]
    public string Protocol { get; init; } = "/poip/kad/1.0.0";

    [CommandOption("--timeout <SECONDS>")]
    [Description("Most seconds for the lookup (1-600). Default 30.")]
    public int TimeoutSeconds { get; init; } = 30;

    [CommandOption("--json")]
    [Description("One JSON line: the records and any equivocation.")]
    public bool Json { get; init; }

    public override ValidationResult Validate()
    {
        if (RequestId.Length != 64 || !Sha256Digest.TryParseHex(RequestId, out _))
        {
            return ValidationResult.Error($"'{RequestId}' is not a request id (64 hex digits).");
        }

        if (Bootstrap.Length == 0)
        {
            return ValidationResult.Error("at least one --bootstrap is required.");
        }

        foreach (string address in Bootstrap)
        {
            if (!Multiaddr.TryParse(address, out var parsed) || parsed!.PeerId is null)
            {
                return ValidationResult.Error($"--bootstrap: '{address}' is not a multiaddr ending in /p2p/<peer id>.");
            }
        }

        return Protocol.Length is 0 or > 128 || Protocol[0] != '/' || Protocol.Any(char.IsWhiteSpace) ? ValidationResult.Error($"--protocol: '{Protocol}' must start with '/' (e.g. /poip/kad/1.0.0).")
            : TimeoutSeconds is < 1 or > 600 ? ValidationResult.Error("--timeout must be 1 to 600 seconds.")
            : ValidationResult.Success();
    }
}

/// <summary>
/// <c>poip dht records REQUEST-ID --bootstrap MA [--protocol ID] [--json]</c>: joins the DHT as a client, collects
/// every valid transaction record of the request from the closest peers (the union of their sets) and prints them
/// with any equivocation. Exit 0 records found, 3 a node signed two different receipts (fraud), 1 none found or the
/// DHT could not be reached.
/// </summary>
internal sealed class DhtRecordsCommand : AsyncCommand<DhtRecordsSettings>
{
    private static readonly string[] Columns = ["role", "signer", "receipt_id", "output_root", "price", "recorded_at"];

    public override async Task<int> ExecuteAsync(CommandContext context, DhtRecordsSettings settings, CancellationToken cancellationToken)
    {
        var requestId = new RequestId(Sha256Digest.ParseHex(settings.RequestId));
        using var key = Ed25519KeyPair.Generate();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));
        await using var host = Libp2pHost.Create(new Libp2pHostOptions { Key = key });
        var options = new KademliaOptions { ProtocolId = settings.Protocol, Mode = DhtMode.Client };
        options.UsePoIPRecords();
        foreach (string address in settings.Bootstrap)
        {
            options.BootstrapPeers.Add(Multiaddr.Parse(address));
        }

        TransactionRecordSet? set;
        try
        {
            await host.StartAsync(timeout.Token);
            await using var dht = KademliaDht.Create(host, options);
            await dht.StartAsync(timeout.Token);
            set = await new DhtTransactionLedger(dht).GetSetAsync(requestId, timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or Core.Errors.PoIPException or System.Net.Sockets.SocketException)
        {
            string why = ex is OperationCanceledException ? string.Create(CultureInfo.InvariantCulture, $"no answer within {settings.TimeoutSeconds} s") : ex.Message;
            await Console.Error.WriteLineAsync($"error: dht records {requestId}: {why}.");
            return ExitCodes.Fault;
        }

        if (set is null)
        {
            await Console.Error.WriteLineAsync($"error: no transaction records for request {requestId} in the DHT.");
            return ExitCodes.Fault;
        }

        var equivocations = set.FindEquivocations();
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["request_id"] = requestId.ToString(),
                ["client"] = set.Request.Message.ClientId.ToString(),
                ["records"] = set.Records.Select(Describe).ToList(),
                ["equivocations"] = equivocations.Select(e => new Dictionary<string, object>
                {
                    ["node"] = e.AccusedId.ToString(),
                    ["first_record_id"] = Sha256Digest.Compute(e.First.Span).ToString(),
                    ["second_record_id"] = Sha256Digest.Compute(e.Second.Span).ToString(),
                }).ToList(),
            }));
        }
        else
        {
            var table = new Table().AddColumns("role", "signer", "receipt", "output root", "price", "recorded at");
            foreach (var row in set.Records.Select(Describe))
            {
                table.AddRow([.. Columns.Select(k => Markup.Escape(row[k]?.ToString() ?? string.Empty))]);
            }

            AnsiConsole.Write(table);
            foreach (var e in equivocations)
            {
                Console.WriteLine($"equivocation: node {e.AccusedId} signed two different receipts for this request (slashable evidence).");
            }
        }

        return equivocations.Count > 0 ? ExitCodes.Fraud : ExitCodes.Ok;
    }

    private static Dictionary<string, object?> Describe(SignedMessage<TransactionRecord> record)
    {
        InferenceReceipt? receipt = record.Message.ReceiptEnvelope.IsEmpty ? null : SignedMessage.Open<InferenceReceipt>(record.Message.ReceiptEnvelope).Message;
        return new Dictionary<string, object?>
        {
            ["role"] = record.Message.Role.ToString().ToLowerInvariant(),
            ["signer"] = record.Signer.ToString(),
            ["record_id"] = record.Hash.ToString(),
            ["size"] = record.Envelope.Encoded.Length,
            ["receipt_id"] = receipt is null ? null : Sha256Digest.Compute(record.Message.ReceiptEnvelope.Span).ToString(),
            ["output_root"] = receipt?.OutputRoot.ToString(),
            ["price"] = receipt?.Price.ToString(),
            ["recorded_at"] = record.Message.RecordedAt.ToString("O", CultureInfo.InvariantCulture),
        };
    }
}

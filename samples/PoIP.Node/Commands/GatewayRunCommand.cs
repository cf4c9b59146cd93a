using System.ComponentModel;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using PoIP.Core.Money;
using PoIP.Gateway;
using PoIP.Hosting.DependencyInjection;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class GatewayRunSettings : RoleSettings
{
    [CommandOption("--http <HOST:PORT>")]
    [Description("Address of the HTTP API (an IP literal and a port; 0 picks a free port). Default 127.0.0.1:8080: loopback only unless told otherwise.")]
    public string Http { get; init; } = "127.0.0.1:8080";

    [CommandOption("--peer <MULTIADDR>")]
    [Description("A node's full multiaddr, ending in /p2p/<peer id> (repeatable; at least one).")]
    public string[] Peers { get; init; } = [];

    [CommandOption("--validator <MULTIADDR>")]
    [Description("A validator's full multiaddr to hand each answer to (repeatable; optional).")]
    public string[] Validators { get; init; } = [];

    [CommandOption("--model <FILE>")]
    [Description("The GGUF model the nodes serve (its ModelId, name and chat template). Default: POIP_MODEL, else ../shared/models/stories260K.gguf.")]
    public string? Model { get; init; }

    [CommandOption("--api-key <KEY>")]
    [Description("A bearer API key accepted on /v1 (repeatable; none: every caller is accepted).")]
    public string[] ApiKeys { get; init; } = [];

    [CommandOption("--max-tokens <N>")]
    [Description("Largest max_tokens accepted (the nodes' own limit should match). Default 512.")]
    public int MaxTokens { get; init; } = 512;

    [CommandOption("--price-per-token <T>")]
    [Description("Most paid per token (the escrowed cap is this × max_tokens). Default 0.001.")]
    public string PricePerToken { get; init; } = "0.001";

    [CommandOption("--diagnose-every <SECONDS>")]
    [Description("Diagnose every node serving stories260K with known-answer challenges this often (at least 10; shown in /v1/nodes, failing nodes routed around). Default: never.")]
    public int? DiagnoseEvery { get; init; }

    [CommandOption("--reclaim-every <SECONDS>")]
    [Description("Take back the price caps of attempts that delivered no answer (a lost hedge, a failed attempt) this often: at once when the request was paid through another attempt, else once abandoned (twice the dispute window). 1 to 86400; 0: never. Default 60.")]
    public int ReclaimEvery { get; init; } = 60;

    [CommandOption("--hedge-after <MS>")]
    [Description("Also ask the next node when an attempt produced no token for this many milliseconds (1 to 60000; the first token wins, the other attempt is cancelled and never paid). Default: adaptive (the 95th percentile of the measured times to first token, 100 ms to 2 s).")]
    public int? HedgeAfter { get; init; }

    [CommandOption("--selection <POLICY>")]
    [Description("How each request's node is picked: competition (default: reputation, latency, stake; every node tried once first) or round-robin (over the nodes in a stable order).")]
    public string Selection { get; init; } = "competition";

    [CommandOption("--stop-on-stdin-close")]
    [Description("Stop when standard input closes; a 'status' line on standard input prints the open libp2p connections and streams as JSON (used by 'poip soak').")]
    public bool StopOnStdinClose { get; init; }

    [CommandOption("--no-hedge")]
    [Description("Never hedge (ask one node at a time; a failed attempt still moves on to the next node).")]
    public bool NoHedge { get; init; }

    public override Spectre.Console.ValidationResult Validate() =>
        ValidateDht() is { Successful: false } dht ? dht
        : GatewayServer.ParseHttp(Http) is null ? Spectre.Console.ValidationResult.Error($"--http must be an IP address and a port, e.g. 127.0.0.1:8080 (got '{Http}').")
        : Peers.Length == 0 && Bootstrap.Length == 0 ? Spectre.Console.ValidationResult.Error("at least one --peer (or --bootstrap, to find nodes in the DHT) is required.")
        : MaxTokens is < 1 or > 65_536 ? Spectre.Console.ValidationResult.Error("--max-tokens must be 1 to 65536.")
        : Selection is not ("competition" or "round-robin") ? Spectre.Console.ValidationResult.Error($"--selection must be competition or round-robin, not '{Selection}'.")
        : HedgeAfter is < 1 or > 60_000 ? Spectre.Console.ValidationResult.Error("--hedge-after must be 1 to 60000 milliseconds.")
        : NoHedge && HedgeAfter is not null ? Spectre.Console.ValidationResult.Error("--no-hedge and --hedge-after exclude each other.")
        : DiagnoseEvery is < 10 or > 86_400 ? Spectre.Console.ValidationResult.Error("--diagnose-every must be 10 to 86400 seconds.")
        : ReclaimEvery is < 0 or > 86_400 ? Spectre.Console.ValidationResult.Error("--reclaim-every must be 0 to 86400 seconds.")
        : Spectre.Console.ValidationResult.Success();
}

/// <summary>
/// <c>poip gateway run</c>: a PoIP client (escrow, competition routing, receipts, validator hand-off)
/// behind the OpenAI-compatible HTTP API (docs/gateway.md); prints the API's address once it serves.
/// </summary>
internal sealed class GatewayRunCommand : AsyncCommand<GatewayRunSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, GatewayRunSettings settings, CancellationToken cancellationToken)
    {
        WebApplication app;
        try
        {
            var config = RoleConfig.Load(settings.Config);
            var ledger = RoleHost.RequireLedger(settings, config);
            string key = config.PathOf(settings.Key, config.Client.Key) ?? RoleHost.DefaultKey("gateway");
            var price = RoleHost.ParseTokens(settings.PricePerToken, "--price-per-token");
            var model = await GatewayModel.FromGgufAsync(config.PathOf(settings.Model, config.Model) ?? ModelLocator.Resolve(null), cancellationToken);
            var builder = GatewayServer.CreateBuilder(GatewayServer.ParseHttp(settings.Http)!, settings.Verbose);
            RoleHost.AddClockOffset(builder.Services, settings);

            if (settings.StopOnStdinClose)
            {
                builder.Services.AddHostedService<RoleHost.StopOnStdinClose>();
            }

            var poip = ledger.AddTo(builder.Services.AddPoIP(o => o.KeyFile = key), key, settings.Dev)
                .AddClient(o =>
                {
                    o.Selection = settings.Selection == "round-robin" ? Hosting.Client.NodeSelectionPolicy.RoundRobin : Hosting.Client.NodeSelectionPolicy.Competition;
                    o.Hedging = !settings.NoHedge;
                    o.HedgeAfter = settings.HedgeAfter is { } hedge ? TimeSpan.FromMilliseconds(hedge) : null;
                    foreach (string peer in settings.Peers)
                    {
                        o.Nodes.Add(peer);
                    }

                    foreach (string validator in settings.Validators)
                    {
                        o.Validators.Add(validator);
                    }
                });
            RoleHost.AddDhtIfAsked(poip, settings, Network.Kademlia.DhtMode.Client);
            if (settings.Dev)
            {
                poip.AddDevFunding(o => o.Balance = TokenAmount.FromTokens(1000));
            }

            builder.Services.AddPoIPGateway(o =>
            {
                o.Models.Add(model);
                o.MaxTokensLimit = settings.MaxTokens;
                o.DefaultMaxTokens = Math.Min(48, settings.MaxTokens);
                o.MaxPricePerToken = price;
                o.DiagnosticsInterval = settings.DiagnoseEvery is { } every ? TimeSpan.FromSeconds(every) : null;
                o.ReclaimInterval = settings.ReclaimEvery > 0 ? TimeSpan.FromSeconds(settings.ReclaimEvery) : null;
                foreach (string apiKey in settings.ApiKeys)
                {
                    o.ApiKeys.Add(apiKey);
                }
            });
            app = builder.Build();
            app.MapPoIPGateway();
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or InvalidDataException or FormatException or Core.Errors.PoIPException)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message);
            return 2;
        }

        return await RoleHost.RunAsync(app, (_, _) =>
        {
            GatewayServer.Announce(app);
            return Task.CompletedTask;
        }, cancellationToken);
    }
}

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

    public override Spectre.Console.ValidationResult Validate() =>
        ValidateDht() is { Successful: false } dht ? dht
        : GatewayServer.ParseHttp(Http) is null ? Spectre.Console.ValidationResult.Error($"--http must be an IP address and a port, e.g. 127.0.0.1:8080 (got '{Http}').")
        : Peers.Length == 0 && Bootstrap.Length == 0 ? Spectre.Console.ValidationResult.Error("at least one --peer (or --bootstrap, to find nodes in the DHT) is required.")
        : MaxTokens is < 1 or > 65_536 ? Spectre.Console.ValidationResult.Error("--max-tokens must be 1 to 65536.")
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
            string ledger = RoleHost.RequireLedger(settings, config);
            string key = config.PathOf(settings.Key, config.Client.Key) ?? RoleHost.DefaultKey("gateway");
            var price = RoleHost.ParseTokens(settings.PricePerToken, "--price-per-token");
            var model = await GatewayModel.FromGgufAsync(config.PathOf(settings.Model, config.Model) ?? ModelLocator.Resolve(null), cancellationToken);
            var builder = GatewayServer.CreateBuilder(GatewayServer.ParseHttp(settings.Http)!, settings.Verbose);
            var poip = builder.Services.AddPoIP(o => o.KeyFile = key)
                .AddEmbeddedEconomics(o => o.DatabasePath = ledger)
                .AddClient(o =>
                {
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

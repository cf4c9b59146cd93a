using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PoIP.Hosting.Client;
using PoIP.Hosting.DependencyInjection;
using PoIP.Network.Addressing;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class NodesSettings : RoleSettings
{
    [CommandOption("--peer <MULTIADDR>")]
    [Description("A node's full multiaddr, ending in /p2p/<peer id> (repeatable; at least one).")]
    public string[] Peers { get; init; } = [];

    [CommandOption("--validator <MULTIADDR>")]
    [Description("A validator's full multiaddr to hand the challenge answers to, like any answer (repeatable; optional).")]
    public string[] Validators { get; init; } = [];

    [CommandOption("--price-per-token <T>")]
    [Description("Most paid per token for the challenges (escrowed like any request). Default 0.001.")]
    public string PricePerToken { get; init; } = "0.001";

    [CommandOption("--json")]
    [Description("One JSON line: every node's diagnosis and the counts.")]
    public bool Json { get; init; }

    public override ValidationResult Validate()
    {
        if (Peers.Length == 0)
        {
            return ValidationResult.Error("at least one --peer is required.");
        }

        foreach (string peer in Peers.Concat(Validators))
        {
            if (!Multiaddr.TryParse(peer, out var parsed) || parsed!.PeerId is null)
            {
                return ValidationResult.Error($"'{peer}' is not a full multiaddr ending in /p2p/<peer id> (--peer, --validator).");
            }
        }

        return ValidationResult.Success();
    }
}

/// <summary>
/// <c>poip nodes</c>: diagnoses nodes over the network with the known-answer challenges (stories260K
/// prompts and seeds sent as ordinary paid requests; tokens checked exactly) and a speed probe; prints a
/// table or one JSON line. Exit 0 when every node passed, 3 when one failed (wrong engine or cheating),
/// 4 when one could not be checked (unreachable, refused, not serving stories260K) and none failed.
/// </summary>
internal sealed class NodesCommand : AsyncCommand<NodesSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, NodesSettings settings, CancellationToken cancellationToken)
    {
        Microsoft.Extensions.Hosting.HostApplicationBuilder builder;
        Core.Money.TokenAmount price;
        try
        {
            var config = RoleConfig.Load(settings.Config);
            var ledger = RoleHost.RequireLedger(settings, config);
            string key = config.PathOf(settings.Key, config.Client.Key) ?? RoleHost.DefaultKey("client");
            price = RoleHost.ParseTokens(settings.PricePerToken, "--price-per-token");
            builder = RoleHost.CreateBuilder(settings, stopOnStdinClose: false);
            var poip = ledger.AddTo(builder.Services.AddPoIP(o => o.KeyFile = key), key, settings.Dev)
                .AddClient(o =>
                {
                    o.Selection = NodeSelectionPolicy.RoundRobin;
                    foreach (string peer in settings.Peers)
                    {
                        o.Nodes.Add(peer);
                    }

                    foreach (string validator in settings.Validators)
                    {
                        o.Validators.Add(validator);
                    }
                });
            if (settings.Dev)
            {
                poip.AddDevFunding(o => o.Balance = Core.Money.TokenAmount.FromTokens(1000));
            }
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or InvalidDataException or FormatException or Core.Errors.PoIPException)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message);
            return 2;
        }

        var diagnoses = new List<NodeDiagnosis>();
        int code = await RoleHost.RunAsync(builder.Build(), async (services, runtime) =>
        {
            try
            {
                var client = services.GetRequiredService<PoIPClient>();
                foreach (string peer in settings.Peers)
                {
                    diagnoses.Add(await client.DiagnoseAsync(Multiaddr.Parse(peer), price, cancellationToken));
                }
            }
            finally
            {
                services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().StopApplication();
            }
        }, cancellationToken);
        if (code != 0)
        {
            return code;
        }

        Print(diagnoses, settings.Json);
        return diagnoses.Any(d => d.KnownAnswerPassed == false) ? 3 : diagnoses.Any(d => d.KnownAnswerPassed is null) ? 4 : 0;
    }

    private static string Verdict(bool? passed) => passed switch { true => "passed", false => "FAILED", null => "unchecked" };

    private static void Print(List<NodeDiagnosis> diagnoses, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["nodes"] = diagnoses.Select(d => new Dictionary<string, object?>
                {
                    ["node_id"] = d.Node.ToString(),
                    ["known_answer"] = Verdict(d.KnownAnswerPassed),
                    ["challenges"] = d.Challenges,
                    ["engine"] = d.Engine?.ToString(),
                    ["time_to_first_token_ms"] = d.TimeToFirstToken is { } t ? Math.Round(t.TotalMilliseconds, 2) : null,
                    ["tokens_per_second"] = d.TokensPerSecond is { } s ? Math.Round(s, 1) : null,
                    ["detail"] = d.Detail,
                }).ToList(),
                ["passed"] = diagnoses.Count(d => d.KnownAnswerPassed == true),
                ["failed"] = diagnoses.Count(d => d.KnownAnswerPassed == false),
                ["unchecked"] = diagnoses.Count(d => d.KnownAnswerPassed is null),
            }));
            return;
        }

        var table = new Table().AddColumns("node", "known answer", "first token", "tokens/s");
        foreach (var d in diagnoses)
        {
            table.AddRow(
                d.Node.ToString(),
                Verdict(d.KnownAnswerPassed),
                d.TimeToFirstToken is { } t ? t.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms" : "-",
                d.TokensPerSecond is { } s ? s.ToString("0", CultureInfo.InvariantCulture) : "-");
        }

        AnsiConsole.Write(table);
        foreach (var d in diagnoses)
        {
            Console.WriteLine($"{d.Node}: {d.Detail}");
        }
    }
}

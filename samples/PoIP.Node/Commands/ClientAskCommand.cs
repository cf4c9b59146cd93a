using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PoIP.Core.Hashing;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Hosting.Client;
using PoIP.Hosting.DependencyInjection;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class ClientAskSettings : RoleSettings
{
    [CommandArgument(0, "<PROMPT>")]
    [Description("The prompt (several prompts: asked in turn).")]
    public string[] Prompts { get; init; } = [];

    [CommandOption("--peer <MULTIADDR>")]
    [Description("A node's full multiaddr, ending in /p2p/<peer id> (repeatable). Without it, nodes are found by model in the DHT (--bootstrap).")]
    public string[] Peers { get; init; } = [];

    [CommandOption("--validator <MULTIADDR>")]
    [Description("A validator's full multiaddr to hand each transaction to (repeatable; optional).")]
    public string[] Validators { get; init; } = [];

    [CommandOption("--model <FILE>")]
    [Description("The model to ask for (hashed to its ModelId). Default: config, POIP_MODEL, else ../shared/models/stories260K.gguf.")]
    public string? Model { get; init; }

    [CommandOption("--model-id <SHA256>")]
    [Description("The model's ModelId (hex SHA-256) instead of --model.")]
    public string? ModelId { get; init; }

    [CommandOption("--max-tokens <N>")]
    [Description("Tokens to generate. Default 48.")]
    public int? MaxTokens { get; init; }

    [CommandOption("--price-per-token <T>")]
    [Description("Most the client pays per token (the escrowed cap is this × max tokens). Default 0.001.")]
    public string? PricePerToken { get; init; }

    [CommandOption("--seed <S>")]
    [Description("Sampling seed of the first request (then +1 per request). Default 1.")]
    public ulong Seed { get; init; } = 1;

    [CommandOption("--temperature <T>")]
    [Description("Sampling temperature (0 = greedy). Default: the protocol's default sampling.")]
    public float? Temperature { get; init; }

    [CommandOption("--repeat <N>")]
    [Description("Ask the prompts N times in all (cycling through them). Default: each prompt once.")]
    public int? Repeat { get; init; }

    [CommandOption("--selection <POLICY>")]
    [Description("How to pick a node per attempt: competition (default) or round-robin.")]
    public string Selection { get; init; } = "competition";

    [CommandOption("--json")]
    [Description("One JSON line per answer, then one line with every escrow this client opened.")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        ValidateDht() is { Successful: false } dht ? dht
        : Prompts.Length == 0 ? ValidationResult.Error("a prompt is required.")
        : Repeat is < 1 or > 10_000 ? ValidationResult.Error("--repeat must be 1 to 10000.")
        : MaxTokens is < 1 or > 4096 ? ValidationResult.Error("--max-tokens must be 1 to 4096.")
        : Selection is not ("competition" or "round-robin") ? ValidationResult.Error($"--selection must be competition or round-robin, not '{Selection}'.")
        : ValidationResult.Success();
}

/// <summary>
/// <c>poip client ask</c>: connects to the given nodes, escrows the price cap on the ledger, asks,
/// checks the receipt, hands the transaction to a validator when one is given, and prints the answer
/// and the receipt summary.
/// </summary>
internal sealed class ClientAskCommand : AsyncCommand<ClientAskSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ClientAskSettings settings, CancellationToken cancellationToken)
    {
        Microsoft.Extensions.Hosting.HostApplicationBuilder builder;
        AskOptions ask;
        try
        {
            var config = RoleConfig.Load(settings.Config);
            var section = config.Client;
            var ledger = RoleHost.RequireLedger(settings, config);
            string key = config.PathOf(settings.Key, section.Key) ?? RoleHost.DefaultKey("client");
            string[] peers = settings.Peers.Length > 0 ? settings.Peers : [.. section.Peers];
            string[] validators = settings.Validators.Length > 0 ? settings.Validators : [.. section.Validators];
            int maxTokens = settings.MaxTokens ?? section.MaxTokens ?? 48;
            var price = RoleHost.ParseTokens(settings.PricePerToken ?? section.PricePerToken ?? "0.001", "--price-per-token");
            ModelId model = settings.ModelId is not null
                ? ModelId.Parse(settings.ModelId)
                : await ModelId.FromFileAsync(config.PathOf(settings.Model, config.Model) ?? ModelLocator.Resolve(null), cancellationToken: cancellationToken);
            var sampling = settings.Temperature is { } t ? new SamplingParameters { Temperature = t } : new SamplingParameters();
            ask = new AskOptions(model, sampling, settings.Seed, maxTokens, price.Multiply((uint)maxTokens));

            builder = RoleHost.CreateBuilder(settings, stopOnStdinClose: false);
            var poip = ledger.AddTo(builder.Services.AddPoIP(o => o.KeyFile = key), key, settings.Dev)
                .AddClient(o =>
                {
                    o.Selection = settings.Selection == "round-robin" ? NodeSelectionPolicy.RoundRobin : NodeSelectionPolicy.Competition;
                    foreach (string peer in peers)
                    {
                        o.Nodes.Add(peer);
                    }

                    foreach (string validator in validators)
                    {
                        o.Validators.Add(validator);
                    }
                });
            RoleHost.AddDhtIfAsked(poip, settings, Network.Kademlia.DhtMode.Client);
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

        int exit = 0;
        int code = await RoleHost.RunAsync(builder.Build(), async (services, runtime) =>
        {
            try
            {
                exit = await AskAllAsync(services.GetRequiredService<PoIPClient>(), settings, ask, cancellationToken);
            }
            finally
            {
                services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().StopApplication();
            }
        }, cancellationToken);
        return code != 0 ? code : exit;
    }

    private static async Task<int> AskAllAsync(PoIPClient client, ClientAskSettings settings, AskOptions ask, CancellationToken cancellationToken)
    {
        int count = settings.Repeat ?? settings.Prompts.Length;
        int failed = 0;
        for (int i = 0; i < count; i++)
        {
            string prompt = settings.Prompts[i % settings.Prompts.Length];
            var options = ask with { Seed = ask.Seed + (ulong)i };
            ClientAnswer answer;
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                answer = await client.AskAsync(prompt, options, cancellationToken: cancellationToken);
            }
            catch (NodeFailedException ex)
            {
                failed++;
                if (settings.Json)
                {
                    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["prompt"] = prompt, ["error"] = ex.Message }));
                }
                else
                {
                    await Console.Error.WriteLineAsync("error: " + ex.Message);
                }

                continue;
            }

            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            var audit = await answer.Audit; // the audit runs after the answer; the command reports it, so it waits (bounded by the client's audit timeout)
            Print(prompt, answer, audit, elapsed, settings.Json);
        }

        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["opened_escrows"] = client.OpenedEscrows.Select(e => e.ToString()).ToList() }));
        }

        return failed == 0 ? 0 : 1;
    }

    private static void Print(string prompt, ClientAnswer answer, ClientAudit audit, TimeSpan elapsed, bool json)
    {
        var receipt = answer.Receipt.Message;
        string verdict = "not sent to a validator";
        string detail = string.Empty;
        if (audit.Status == ClientAuditStatus.Pending)
        {
            verdict = "pending";
            detail = audit.Detail;
        }
        else if (audit.Reply is { } reply)
        {
            verdict = !reply.Selected ? "not selected" : audit.Verdict is { } signed ? signed.Message.Outcome.ToString() : "no verdict";
            detail = audit.Detail;
        }

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["prompt"] = prompt,
                ["text"] = answer.Text,
                ["node"] = answer.Node.ToString(),
                ["request_id"] = receipt.RequestId.ToString(),
                ["receipt_id"] = answer.Receipt.Hash.ToString(),
                ["request_envelope"] = Convert.ToBase64String(answer.Request.Envelope.Encoded.Span),
                ["receipt_envelope"] = Convert.ToBase64String(answer.Receipt.Envelope.Encoded.Span),
                ["price"] = receipt.Price.ToString(),
                ["output_tokens"] = receipt.OutputTokenCount,
                ["stop"] = receipt.StopReason.ToString(),
                ["attempts"] = answer.Attempts,
                ["failed_attempts"] = answer.FailedAttempts,
                ["audit_selected"] = audit.Reply?.Selected ?? false,
                ["verdict"] = verdict,
                ["detail"] = detail,
                ["elapsed_ms"] = Math.Round(elapsed.TotalMilliseconds, 1),
            }));
            return;
        }

        Console.WriteLine(prompt + answer.Text);
        var table = new Table().HideHeaders().AddColumns("field", "value");
        table.AddRow("node", answer.Node.ToString());
        table.AddRow("request", receipt.RequestId.ToString());
        table.AddRow("receipt", answer.Receipt.Hash.ToString());
        table.AddRow("output", string.Create(CultureInfo.InvariantCulture, $"{receipt.OutputTokenCount} tokens, stop {receipt.StopReason}"));
        table.AddRow("price", receipt.Price + " (escrowed; paid after the dispute window)");
        table.AddRow("engine", Markup.Escape(receipt.Engine.ToString()));
        table.AddRow("attempts", answer.Attempts.ToString(CultureInfo.InvariantCulture) + (answer.FailedAttempts.Count == 0 ? string.Empty : " (" + Markup.Escape(string.Join("; ", answer.FailedAttempts)) + ")"));
        table.AddRow("audit", Markup.Escape(detail.Length == 0 ? verdict : $"{verdict}: {detail}"));
        AnsiConsole.Write(table);
    }
}

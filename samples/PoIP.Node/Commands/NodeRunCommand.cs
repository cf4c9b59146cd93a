using System.ComponentModel;
using PoIP.Core.Money;
using PoIP.Economics.Embedded;
using PoIP.Hosting.DependencyInjection;
using PoIP.Testing.LocalNetwork;
using PoIP.Inference.Llama;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class NodeRunSettings : ServingRoleSettings
{
    [CommandOption("--model <FILE>")]
    [Description("GGUF model to serve. Default: config, POIP_MODEL, else ../shared/models/stories260K.gguf.")]
    public string? Model { get; init; }

    [CommandOption("--price-per-token <T>")]
    [Description("Price asked per output token, in tokens. Default 0.001.")]
    public string? PricePerToken { get; init; }

    [CommandOption("--max-tokens <N>")]
    [Description("Largest output accepted per request. Default 256.")]
    public int? MaxTokens { get; init; }

    [CommandOption("--known-answer <POLICY>")]
    [Description("if-available (default), required, skip: the known-answer test before serving.")]
    public string? KnownAnswer { get; init; }

    [CommandOption("--known-answer-model <FILE>")]
    [Description("stories260K.gguf for the known-answer test when --model is another model. Default: found beside the repository.")]
    public string? KnownAnswerModel { get; init; }

    [CommandOption("--stake <T>")]
    [Description("With --dev: stake to bond, in tokens. Default 200.")]
    public string? Stake { get; init; }

    [CommandOption("--cheat <KIND>")]
    [Description("Demonstrations only: alter-output, other-seed or truncate (this node will be caught and slashed).")]
    public string? Cheat { get; init; }
}

/// <summary>
/// <c>poip node run</c>: an inference node under Microsoft.Extensions.Hosting (services.AddPoIP):
/// runs the known-answer gate, checks its stake, serves <c>/poip/infer/1.0.0</c>, prints its full
/// multiaddr as the first line of standard output, and runs until stopped.
/// </summary>
internal sealed class NodeRunCommand : AsyncCommand<NodeRunSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, NodeRunSettings settings, CancellationToken cancellationToken)
    {
        Microsoft.Extensions.Hosting.HostApplicationBuilder builder;
        try
        {
            var config = RoleConfig.Load(settings.Config);
            var section = config.Node;
            var ledger = RoleHost.RequireLedger(settings, config);
            string model = ModelLocator.RequireGguf(config.PathOf(settings.Model, config.Model) ?? ModelLocator.Resolve(null), "--model");
            string key = config.PathOf(settings.Key, section.Key) ?? RoleHost.DefaultKey("node");
            var price = RoleHost.ParseTokens(settings.PricePerToken ?? section.PricePerToken ?? "0.001", "--price-per-token");
            int maxTokens = settings.MaxTokens ?? section.MaxTokens ?? 256;
            var policy = ParsePolicy(settings.KnownAnswer ?? section.KnownAnswer ?? "if-available");
            string? katModel = config.PathOf(settings.KnownAnswerModel, section.KnownAnswerModel) ?? ModelLocator.Stories260K();
            var cheat = ParseCheat(settings.Cheat);
            var stake = RoleHost.ParseTokens(settings.Stake ?? section.Stake ?? "200", "--stake");
            string[] listen = settings.Listen.Length > 0 ? settings.Listen : [.. section.Listen];

            builder = RoleHost.CreateBuilder(settings, settings.StopOnStdinClose);
            var poip = RoleHost.AddServingRole(builder, key, listen, ledger, settings.Dev)
                .AddLlamaEngine(o =>
                {
                    o.ModelPath = model;
                    o.Threads = settings.Threads ?? section.Threads ?? 1;
                    o.ContextSize = Math.Max(512, maxTokens + 256);
                    o.MaxPromptTokens = 256;
                    o.MaxOutputTokens = maxTokens;
                    settings.ApplyEngineProfile(o);
                },
                kat =>
                {
                    kat.Policy = policy;
                    kat.ModelPath = katModel;
                })
                .AddNode(o =>
                {
                    o.PricePerToken = price;
                    o.MaxOutputTokens = maxTokens;
                });
            RoleHost.AddDhtIfAsked(poip, settings, Network.Kademlia.DhtMode.Server);
            if (settings.Dev)
            {
                poip.AddDevFunding(o => o.Stake = stake);
            }

            if (cheat != CheatKind.None)
            {
                poip.AddDemoCheat(cheat);
            }
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or InvalidDataException)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message);
            return 2;
        }

        return await RoleHost.RunAsync(builder.Build(), (_, runtime) => RoleHost.AnnounceAsync(
            runtime, $"node {runtime.PeerId!.Value} serving model {runtime.Engine!.Model.Id.ToString()[..16]}… on /poip/infer/1.0.0; known-answer test: {runtime.KnownAnswer?.Detail}. Ctrl+C to stop.", cancellationToken), cancellationToken);
    }

    internal static KnownAnswerPolicy ParsePolicy(string text) => text switch
    {
        "if-available" => KnownAnswerPolicy.IfAvailable,
        "required" => KnownAnswerPolicy.Required,
        "skip" => KnownAnswerPolicy.Skip,
        _ => throw new ArgumentException($"--known-answer must be if-available, required or skip, not '{text}'."),
    };

    internal static CheatKind ParseCheat(string? text) => text switch
    {
        null or "none" => CheatKind.None,
        "alter-output" => CheatKind.AlterOutput,
        "other-seed" => CheatKind.OtherSeed,
        "truncate" => CheatKind.Truncate,
        _ => throw new ArgumentException($"--cheat must be alter-output, other-seed, truncate or none, not '{text}'."),
    };
}

using System.ComponentModel;
using System.Globalization;
using PoIP.Hosting.DependencyInjection;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class ValidatorRunSettings : ServingRoleSettings
{
    [CommandOption("--model <FILE>")]
    [Description("GGUF model to re-execute (the nodes' model). Default: config, POIP_MODEL, else ../shared/models/stories260K.gguf.")]
    public string? Model { get; init; }

    [CommandOption("--audit-p <P>")]
    [Description("Probability that a submitted receipt is re-executed. Default 0.5.")]
    public double? AuditP { get; init; }

}

/// <summary>
/// <c>poip validator run</c>: listens on <c>/poip/audit/1.0.0</c>, draws the verifiable audit lottery
/// over each submitted receipt, re-executes the selected ones, signs verdicts and slashes fraud on the
/// ledger. Prints its full multiaddr first; one log line per audit (standard error).
/// </summary>
internal sealed class ValidatorRunCommand : AsyncCommand<ValidatorRunSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ValidatorRunSettings settings, CancellationToken cancellationToken)
    {
        Microsoft.Extensions.Hosting.HostApplicationBuilder builder;
        try
        {
            var config = RoleConfig.Load(settings.Config);
            var section = config.Validator;
            var ledger = RoleHost.RequireLedger(settings, config);
            string model = ModelLocator.RequireGguf(config.PathOf(settings.Model, config.Model) ?? ModelLocator.Resolve(null), "--model");
            string key = config.PathOf(settings.Key, section.Key) ?? RoleHost.DefaultKey("validator");
            string[] listen = settings.Listen.Length > 0 ? settings.Listen : [.. section.Listen];
            double p = settings.AuditP ?? section.AuditP ?? 0.5;

            builder = RoleHost.CreateBuilder(settings, settings.StopOnStdinClose);
            var poip = RoleHost.AddServingRole(builder, key, listen, ledger, settings.Dev)
                .AddLlamaEngine(o =>
                {
                    o.ModelPath = model;
                    o.Threads = settings.Threads ?? section.Threads ?? 1;
                    o.ContextSize = 2048;
                    o.MaxPromptTokens = 1024;
                    o.MaxOutputTokens = 1024;
                    settings.ApplyEngineProfile(o);
                })
                .AddValidator(o => o.AuditProbability = p);
            RoleHost.AddDhtIfAsked(poip, settings, Network.Kademlia.DhtMode.Server);
            if (settings.Dev)
            {
                poip.AddDevFunding(o =>
                {
                    o.Stake = RoleHost.ParseTokens(section.Stake ?? "100", "stake");
                    o.RegisterValidator = true;
                });
            }
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or InvalidDataException)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message);
            return 2;
        }

        return await RoleHost.RunAsync(builder.Build(), (_, runtime) => RoleHost.AnnounceAsync(
            runtime, string.Create(CultureInfo.InvariantCulture, $"validator {runtime.PeerId!.Value} listening on /poip/audit/1.0.0. Ctrl+C to stop."), cancellationToken), cancellationToken);
    }
}

using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using PoIP.Inference.Verification;
using PoIP.Testing.Verification;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class SimCheatingSettings : CommandSettings
{
    [CommandOption("--nodes <N>")]
    [Description("Number of nodes (default 100).")]
    public int Nodes { get; init; } = 100;

    [CommandOption("--cheaters <F>")]
    [Description("How many nodes cheat on every job (default 10).")]
    public int Cheaters { get; init; } = 10;

    [CommandOption("-p|--probability <P>")]
    [Description("Audit probability; default: the break-even probability times --margin.")]
    public double? AuditProbability { get; init; }

    [CommandOption("--rounds <R>")]
    [Description("Rounds; each node serves one job per round (default 10000).")]
    public int Rounds { get; init; } = 10_000;

    [CommandOption("--seed <S>")]
    [Description("Seed (default 1).")]
    public ulong Seed { get; init; } = 1;

    [CommandOption("--fee <F>")]
    [Description("Fee per job (default 1.0).")]
    public double Fee { get; init; } = 1.0;

    [CommandOption("--honest-cost <C>")]
    [Description("Compute cost of an honest job (default 0.6).")]
    public double HonestCost { get; init; } = 0.6;

    [CommandOption("--cheat-cost <C>")]
    [Description("Compute cost of a cheating job, e.g. a 10x smaller model (default 0.06).")]
    public double CheatCost { get; init; } = 0.06;

    [CommandOption("--slash <S>")]
    [Description("Stake slashed per detected cheat (default 100 = 10% of a 1000-fee stake).")]
    public double Slash { get; init; } = 100;

    [CommandOption("--detection <D>")]
    [Description("Probability that an audit detects a cheat (default 0.95).")]
    public double Detection { get; init; } = 0.95;

    [CommandOption("--margin <M>")]
    [Description("Safety margin over the break-even p when -p is not given (default 1.5).")]
    public double Margin { get; init; } = 1.5;

    [CommandOption("--audit-cost <C>")]
    [Description("Validator's cost per audit, reported only (default 0.05).")]
    public double AuditCost { get; init; } = 0.05;

    [CommandOption("--json")]
    [Description("Print one JSON object instead of a table.")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        Nodes < 1 ? ValidationResult.Error("--nodes must be at least 1.")
        : Cheaters < 0 || Cheaters > Nodes ? ValidationResult.Error("--cheaters must be 0 to --nodes.")
        : Rounds < 1 ? ValidationResult.Error("--rounds must be at least 1 (no rounds, no evidence either way).")
        : AuditProbability is < 0 or > 1 ? ValidationResult.Error("-p must be in [0, 1].")
        : ValidationResult.Success();
}

internal sealed class SimCheatingCommand : Command<SimCheatingSettings>
{
    public override int Execute(CommandContext context, SimCheatingSettings settings, CancellationToken cancellationToken)
    {
        var economics = new CheatingEconomics(settings.Fee, settings.HonestCost, settings.CheatCost, settings.Slash, settings.Detection);
        try
        {
            economics.EnsureValid();
        }
        catch (ArgumentOutOfRangeException e)
        {
            AnsiConsole.MarkupLine("[red]" + Markup.Escape(e.Message) + "[/]");
            return 2;
        }

        double p = settings.AuditProbability ?? economics.RecommendedAuditProbability(Math.Max(1.0, settings.Margin));
        var report = CheatingSimulation.Run(new CheatingSimulationOptions(economics, settings.Nodes, settings.Cheaters, p, settings.Rounds, settings.Seed, settings.AuditCost));
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["p"] = p,
                ["p_break_even"] = report.MinimalAuditProbability,
                ["gain"] = economics.Gain,
                ["penalty"] = economics.Penalty,
                ["cheating_loses"] = report.CheatingLoses,
                ["honest"] = report.Honest,
                ["cheat"] = report.Cheat,
                ["slashed_total"] = report.SlashedTotal,
                ["audit_cost_total"] = report.AuditCostTotal,
            }));
            return 0;
        }

        string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
        AnsiConsole.MarkupLine(Markup.Escape($"gain G = {F(economics.Gain)}, penalty if caught S = F - G + slash = {F(economics.Penalty)}, detection d = {F(economics.DetectionRate)}"));
        AnsiConsole.MarkupLine(Markup.Escape($"break-even p = G / (d (S + G)) = {F(report.MinimalAuditProbability)}; simulated p = {F(p)} ({F(p / report.MinimalAuditProbability)}x)"));
        var table = new Table().AddColumns("strategy", "nodes", "jobs", "audits", "caught", "expected profit/job", "realised profit/job", "realised total");
        foreach (var row in new[] { report.Honest, report.Cheat })
        {
            table.AddRow(row.Strategy, row.Nodes.ToString(CultureInfo.InvariantCulture), row.Jobs.ToString(CultureInfo.InvariantCulture), row.Audits.ToString(CultureInfo.InvariantCulture), row.Caught.ToString(CultureInfo.InvariantCulture), F(row.ExpectedProfitPerJob), F(row.RealisedProfitPerJob), F(row.RealisedProfit));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape($"slashed {F(report.SlashedTotal)}; audits cost the validators {F(report.AuditCostTotal)}; cheating {(report.CheatingLoses ? "LOSES" : "WINS")} against honest work."));
        return 0;
    }
}

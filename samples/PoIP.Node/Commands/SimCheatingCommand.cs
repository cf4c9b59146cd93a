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

    [CommandOption("--validators <N>")]
    [Description("Also simulate N validators under planted receipts and appeals (default 0: nodes only).")]
    public int Validators { get; init; }

    [CommandOption("--lazy <L>")]
    [Description("How many validators answer 'valid' without auditing (default 0).")]
    public int Lazy { get; init; }

    [CommandOption("--plant-rate <Q>")]
    [Description("Share of audited receipts that are planted; default: the break-even rate times --margin.")]
    public double? PlantRate { get; init; }

    [CommandOption("--validator-fee <R>")]
    [Description("What a validator is paid per verdict (default 0.1).")]
    public double ValidatorFee { get; init; } = 0.1;

    [CommandOption("--validator-slash <S>")]
    [Description("Stake a validator loses when its verdict is overturned (default 50).")]
    public double ValidatorSlash { get; init; } = 50;

    [CommandOption("--plant-cost <K>")]
    [Description("What one planted receipt costs the planters (default 25: the burned part of a minimum-stake planted node's slash).")]
    public double PlantCost { get; init; } = 25;

    [CommandOption("--coalition <B>")]
    [Description("Fraction of validators that lie together against honest nodes (default 0.2).")]
    public double Coalition { get; init; } = 0.2;

    [CommandOption("--quorum <Q>")]
    [Description("Fraud verdicts needed to convict (default 2).")]
    public int Quorum { get; init; } = 2;

    [CommandOption("--panel <P>")]
    [Description("Validators drawn to judge an appeal (default 3).")]
    public int Panel { get; init; } = 3;

    [CommandOption("--challenger-share <C>")]
    [Description("Share of a node's slash paid to the case's opener (default 0.2).")]
    public double ChallengerShare { get; init; } = 0.2;

    [CommandOption("--json")]
    [Description("Print one JSON object instead of a table.")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        Nodes < 1 ? ValidationResult.Error("--nodes must be at least 1.")
        : Cheaters < 0 || Cheaters > Nodes ? ValidationResult.Error("--cheaters must be 0 to --nodes.")
        : Rounds < 1 ? ValidationResult.Error("--rounds must be at least 1 (no rounds, no evidence either way).")
        : AuditProbability is < 0 or > 1 ? ValidationResult.Error("-p must be in [0, 1].")
        : Validators < 0 || Lazy < 0 || Lazy > Math.Max(Validators, 0) ? ValidationResult.Error("--lazy must be 0 to --validators.")
        : PlantRate is < 0 or > 1 ? ValidationResult.Error("--plant-rate must be in [0, 1].")
        : Coalition is < 0 or > 1 ? ValidationResult.Error("--coalition must be in [0, 1].")
        : Quorum is < 1 or > 32 || Panel is < 1 or > 32 ? ValidationResult.Error("--quorum and --panel must be 1 to 32.")
        : !(ValidatorSlash > 0) || double.IsInfinity(ValidatorSlash) ? ValidationResult.Error("--validator-slash must be a positive number.")
        : !(ValidatorFee >= 0) || double.IsInfinity(ValidatorFee) ? ValidationResult.Error("--validator-fee must be a non-negative number.")
        : !(PlantCost >= 0) || double.IsInfinity(PlantCost) ? ValidationResult.Error("--plant-cost must be a non-negative number.")
        : ChallengerShare is < 0 or > 1 || double.IsNaN(ChallengerShare) ? ValidationResult.Error("--challenger-share must be in [0, 1].")
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

        var validatorEconomics = new ValidatorEconomics(settings.AuditCost, settings.ValidatorFee, settings.ValidatorSlash, settings.PlantCost, settings.Slash, settings.ChallengerShare, settings.Quorum, settings.Panel);
        try
        {
            validatorEconomics.EnsureValid();
        }
        catch (ArgumentOutOfRangeException e)
        {
            AnsiConsole.MarkupLine("[red]" + Markup.Escape(e.Message) + "[/]");
            return 2;
        }

        double p = settings.AuditProbability ?? economics.RecommendedAuditProbability(Math.Max(1.0, settings.Margin));
        var report = CheatingSimulation.Run(new CheatingSimulationOptions(economics, settings.Nodes, settings.Cheaters, p, settings.Rounds, settings.Seed, settings.AuditCost));
        double q = settings.PlantRate ?? Math.Min(1.0, validatorEconomics.MinimalPlantRate * Math.Max(1.0, settings.Margin));
        var validators = settings.Validators > 0
            ? ValidatorSimulation.Run(new ValidatorSimulationOptions(validatorEconomics, settings.Validators, settings.Lazy, q, settings.Rounds, settings.Coalition, settings.Seed))
            : null;
        if (settings.Json)
        {
            var json = new Dictionary<string, object>
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
            };
            if (validators is not null)
            {
                json["validators"] = new Dictionary<string, object>
                {
                    ["plant_rate"] = q,
                    ["plant_rate_break_even"] = validators.MinimalPlantRate,
                    ["laziness_loses"] = validators.LazinessLoses,
                    ["honest_profit_per_audit"] = validators.Honest.RealisedProfitPerAudit,
                    ["lazy_profit_per_audit"] = validators.Lazy.RealisedProfitPerAudit,
                    ["lazy_caught"] = validators.Lazy.Caught,
                    ["plant_cost_total"] = validators.PlantCostTotal,
                    ["lie_stands_probability"] = validatorEconomics.LieStandsProbability(settings.Coalition),
                    ["lie_gain_per_liar"] = validators.LieGainPerLiar,
                    ["lying_loses"] = validators.LyingLoses,
                    ["max_deterred_coalition"] = validatorEconomics.MaximalDeterredCoalition(),
                };
            }

            Console.WriteLine(JsonSerializer.Serialize(json));
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
        if (validators is null)
        {
            return 0;
        }

        AnsiConsole.MarkupLine(Markup.Escape($"validators: lazy gain per audit c_a = {F(settings.AuditCost)}, slash if overturned S_v = {F(settings.ValidatorSlash)}"));
        AnsiConsole.MarkupLine(Markup.Escape($"break-even plant rate q = c_a / S_v = {F(validators.MinimalPlantRate)}; simulated q = {F(q)}"));
        var vtable = new Table().AddColumns("strategy", "validators", "audits", "caught", "expected profit/audit", "realised profit/audit");
        foreach (var row in new[] { validators.Honest, validators.Lazy })
        {
            vtable.AddRow(row.Strategy, row.Validators.ToString(CultureInfo.InvariantCulture), row.Audits.ToString(CultureInfo.InvariantCulture), row.Caught.ToString(CultureInfo.InvariantCulture), F(row.ExpectedProfitPerAudit), F(row.RealisedProfitPerAudit));
        }

        AnsiConsole.Write(vtable);
        AnsiConsole.MarkupLine(Markup.Escape($"plants cost {F(validators.PlantCostTotal)}; laziness {(validators.LazinessLoses ? "LOSES" : "WINS")} against honest audits."));
        AnsiConsole.MarkupLine(Markup.Escape(
            $"lies (coalition {F(settings.Coalition)}, quorum {settings.Quorum}, panel {settings.Panel}): {validators.LiesStood} of {validators.Lies} stood (expected {F(validatorEconomics.LieStandsProbability(settings.Coalition))}); "
            + $"gain per liar per lie {F(validators.LieGainPerLiar)} (expected {F(validators.ExpectedLieGain)}); lying {(validators.LyingLoses ? "LOSES" : "WINS")}; "
            + $"lying loses for any coalition below {F(validatorEconomics.MaximalDeterredCoalition())}."));
        return 0;
    }
}

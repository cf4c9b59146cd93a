using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using PoIP.Core.Economics;
using PoIP.Economics.Embedded;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class LedgerInitSettings : CommandSettings
{
    [CommandOption("--ledger <FILE>")]
    [Description("The SQLite ledger to create (must not exist).")]
    public string? Ledger { get; init; }

    [CommandOption("--slash-quorum <N>")]
    [Description("Fraud verdicts of distinct registered validators needed before a node is slashed (1-32; default 1: one verdict slashes).")]
    public int SlashQuorum { get; init; } = AccountabilityRules.Default.SlashQuorum;

    [CommandOption("--appeal-window <SECONDS>")]
    [Description("How long a conviction waits for an appeal before the slash executes, and how long a panel has to judge (0: no appeal, the slash executes at once).")]
    public double AppealWindow { get; init; }

    [CommandOption("--appeal-panel <N>")]
    [Description("Validators drawn afresh to judge an appeal (1-32; default 3); a majority of the panel decides.")]
    public int AppealPanel { get; init; } = AccountabilityRules.Default.AppealPanelSize;

    [CommandOption("--json")]
    [Description("One JSON line instead of a table.")]
    public bool Json { get; init; }

    public AccountabilityRules Rules => new(SlashQuorum, TimeSpan.FromSeconds(AppealWindow), AppealPanel);

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Ledger) ? ValidationResult.Error("--ledger FILE is required.")
        : File.Exists(Ledger) ? ValidationResult.Error($"ledger '{Ledger}' exists: its rules were fixed when it was created.")
        : !double.IsFinite(AppealWindow) || AppealWindow < 0 || AppealWindow > TimeSpan.FromDays(30).TotalSeconds ? ValidationResult.Error($"--appeal-window must be 0 to {TimeSpan.FromDays(30).TotalSeconds:0} seconds (got {AppealWindow.ToString(CultureInfo.InvariantCulture)}).")
        : Rules.Validate() is { } invalid ? ValidationResult.Error(invalid)
        : ValidationResult.Success();
}

/// <summary><c>poip ledger init</c>: creates an embedded ledger with its validator-accountability rules (fixed at genesis).</summary>
internal sealed class LedgerInitCommand : AsyncCommand<LedgerInitSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, LedgerInitSettings settings, CancellationToken cancellationToken)
    {
        string path = Path.GetFullPath(settings.Ledger!);
        using var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = path, Accountability = settings.Rules });
        var rules = await ledger.GetAccountabilityRulesAsync(cancellationToken);
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["ledger"] = path,
                ["slash_quorum"] = rules.SlashQuorum,
                ["appeal_window_s"] = rules.AppealWindow.TotalSeconds,
                ["appeal_panel"] = rules.AppealPanelSize,
            }));
            return ExitCodes.Ok;
        }

        AnsiConsole.Write(new Table().Title("ledger " + Markup.Escape(path)).AddColumns("slash quorum", "appeal window", "appeal panel")
            .AddRow(rules.SlashQuorum.ToString(CultureInfo.InvariantCulture), rules.AppealWindow > TimeSpan.Zero ? $"{rules.AppealWindow.TotalSeconds:0.###} s" : "none (slash at once)", rules.AppealPanelSize.ToString(CultureInfo.InvariantCulture)));
        return ExitCodes.Ok;
    }
}

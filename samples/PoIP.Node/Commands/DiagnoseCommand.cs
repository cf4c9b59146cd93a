using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using PoIP.Core.Errors;
using PoIP.Inference.Diagnostics;
using PoIP.Inference.Llama;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class DiagnoseSettings : CommandSettings
{
    [CommandOption("--json")]
    [Description("Print one JSON object instead of tables.")]
    public bool Json { get; init; }

    [CommandOption("--model <FILE>")]
    [Description("stories260K.gguf for the known-answer test. Default: ../shared/models/stories260K.gguf beside the repository root, else POIP_MODEL.")]
    public string? Model { get; init; }

    [CommandOption("--threads <N>")]
    [Description("CPU threads for the benchmark (default: all cores).")]
    public int Threads { get; init; }

    [CommandOption("--cpu-variant <V>")]
    [Description("auto, avx512, avx2, avx, noavx (default auto).")]
    public string CpuVariant { get; init; } = "auto";
}

/// <summary>
/// <c>poip diagnose</c>: device report, a short prefill/decode benchmark and the known-answer test.
/// Exit code 0 only when the known-answer test passes: a node that fails it must not serve.
/// </summary>
internal sealed class DiagnoseCommand : AsyncCommand<DiagnoseSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, DiagnoseSettings settings, CancellationToken cancellationToken)
    {
        if (!GenerateCommand.TryParseVariant(settings.CpuVariant, out var variant))
        {
            await Console.Error.WriteLineAsync($"error: unknown CPU variant '{settings.CpuVariant}'.");
            return 2;
        }

        string model = settings.Model ?? ModelLocator.Stories260K() ?? ModelLocator.Resolve(null);
        EngineSpeed? speed = null;
        KnownAnswerResult? answers = null;
        string? error = null;
        try
        {
            var options = KnownAnswerTest.EngineOptions(model, settings.Threads) with { CpuVariant = variant };
            await using var engine = await LlamaInferenceEngine.LoadAsync(options, cancellationToken);
            speed = await HardwareDiagnostics.MeasureSpeedAsync(engine, 64, 64, cancellationToken);
            answers = await KnownAnswerTest.RunAsync(engine, cancellationToken);
        }
        catch (EngineException ex)
        {
            error = $"[{ex.Code}] {ex.Message}";
        }

        var device = HardwareDiagnostics.Collect();
        bool passed = answers?.Passed == true;
        if (settings.Json)
        {
            var document = new Dictionary<string, object?>
            {
                ["device"] = device,
                ["known_answer_model"] = model,
                ["benchmark"] = speed,
                ["known_answer"] = answers is null ? null : new { passed = answers.Passed, summary = answers.Summary, cases = answers.Cases },
                ["error"] = error,
                ["may_serve"] = passed,
            };
            Console.WriteLine(JsonSerializer.Serialize(document, GenerateCommand.JsonOptions));
            return passed ? 0 : 1;
        }

        var table = new Table().Title("device").AddColumns("fact", "value");
        table.AddRow("os", Markup.Escape(device.Os));
        table.AddRow("cpu", Markup.Escape($"{device.CpuModel} ({device.Architecture})"));
        table.AddRow("logical cores", device.LogicalCores.ToString(CultureInfo.InvariantCulture));
        table.AddRow("memory", $"{device.TotalMemoryBytes / (1024 * 1024)} MiB");
        table.AddRow("simd", string.Join(' ', device.SimdFlags));
        table.AddRow("llama.cpp", device.Native is null ? "not loaded" : Markup.Escape($"{device.Native.Build} {device.Native.Backend}-{device.Native.CpuVariant}"));
        table.AddRow("gpu", device.Gpus.Count == 0 ? "none" : Markup.Escape(string.Join(", ", device.Gpus)));
        if (speed is not null)
        {
            table.AddRow("prefill (stories260K)", string.Create(CultureInfo.InvariantCulture, $"{speed.PrefillTokensPerSecond:F0} tok/s ({speed.PromptTokens} tokens)"));
            table.AddRow("decode (stories260K)", string.Create(CultureInfo.InvariantCulture, $"{speed.DecodeTokensPerSecond:F0} tok/s ({speed.DecodeTokens} tokens)"));
        }

        AnsiConsole.Write(table);
        if (answers is not null)
        {
            var cases = new Table().Title("known-answer test").AddColumns("case", "result", "detail");
            foreach (var c in answers.Cases)
            {
                cases.AddRow(c.Name, c.Passed ? "[green]pass[/]" : "[red]FAIL[/]", Markup.Escape(c.Detail));
            }

            AnsiConsole.Write(cases);
            AnsiConsole.MarkupLine(Markup.Escape(answers.Summary));
        }

        if (error is not null)
        {
            await Console.Error.WriteLineAsync("error: " + error);
        }

        AnsiConsole.MarkupLine(passed ? "[green]this node may serve[/]" : "[red]this node must not serve: the known-answer test did not pass[/]");
        return passed ? 0 : 1;
    }
}

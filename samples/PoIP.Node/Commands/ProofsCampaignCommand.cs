using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using PoIP.Core.Errors;
using PoIP.Inference.Gguf;
using PoIP.Testing.Verification;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class ProofsCampaignSettings : CommandSettings
{
    [CommandOption("--receipts <N>")]
    [Description("Honest receipts to reach in total, those already in the --resume file included (default 1000).")]
    public long Receipts { get; init; } = 1000;

    [CommandOption("--resume <FILE>")]
    [Description("Campaign file: created when absent, else read (refused when truncated, edited or of another version) and continued; saved after every batch.")]
    public string? Resume { get; init; }

    [CommandOption("--batch <N>")]
    [Description("Receipts per configuration per batch; configurations take turns, fewest receipts first (default 20).")]
    public int Batch { get; init; } = 20;

    [CommandOption("--cpu <VARIANTS>")]
    [Description("llama.cpp CPU variants, comma-separated (default: every variant this CPU runs, avx512 and/or avx2; each runs in its own child process).")]
    public string? Cpu { get; init; }

    [CommandOption("--dir <PATH>")]
    [Description("Where synthesized models are written and reused (default: <temp>/poip-proofs-matrix).")]
    public string? Directory { get; init; }

    [CommandOption("--json")]
    [Description("Print one JSON line (receipts, false_positives, fp_upper_bound, inconclusive, configurations).")]
    public bool Json { get; init; }

    [CommandOption("--only <VARIANT>", IsHidden = true)]
    [Description("Internal: run only this variant's configurations in this process (how the parent starts its children).")]
    public string? Only { get; init; }

    public override ValidationResult Validate() =>
        Receipts is < 1 or > 100_000_000 ? ValidationResult.Error("--receipts must be in [1, 100000000].")
        : Batch is < 1 or > 10_000 ? ValidationResult.Error("--batch must be in [1, 10000].")
        : Cpu is not null && Variants(Cpu) is null ? ValidationResult.Error("--cpu must list avx512, avx2, avx or noavx, comma-separated, each once.")
        : Only is not null && (Resume is null || Variants(Only) is not { Length: 1 }) ? ValidationResult.Error("--only needs --resume and one CPU variant.")
        : ValidationResult.Success();

    /// <summary>The variants named, or null when one is unknown or repeated.</summary>
    internal static string[]? Variants(string text)
    {
        string[] names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return names.Length > 0 && names.All(n => n is "avx512" or "avx2" or "avx" or "noavx") && names.Distinct().Count() == names.Length ? names : null;
    }

    /// <summary>The variants this CPU runs, best first: avx512 (when AVX-512F is there) and avx2.</summary>
    internal static string[] Available() =>
        Avx512F.IsSupported && Avx2.IsSupported ? ["avx512", "avx2"] : Avx2.IsSupported ? ["avx2"] : Avx.IsSupported ? ["avx"] : ["noavx"];
}

/// <summary>
/// <c>poip proofs campaign</c>: honest receipts across every configuration the standard allows, with the
/// false-positive count and its Clopper–Pearson 95 % upper bound (docs/proofs.md §7b).
/// </summary>
internal sealed class ProofsCampaignCommand : AsyncCommand<ProofsCampaignSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ProofsCampaignSettings settings, CancellationToken cancellationToken)
    {
        _ = context;
        var clock = Stopwatch.StartNew();
        string[] variants = settings.Cpu is { } cpu ? ProofsCampaignSettings.Variants(cpu)! : ProofsCampaignSettings.Available();
        var configurations = ProofCampaign.Configurations(variants);
        string definition = ProofCampaign.Definition(configurations);
        string? path = settings.Resume is null ? null : Path.GetFullPath(settings.Resume);
        string? temporary = null;
        ProofCampaignFile file;
        try
        {
            if (path is not null && File.Exists(path))
            {
                file = await ProofCampaignFile.ReadAsync(path, definition, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                file = ProofCampaignFile.Create(definition, configurations.Select(c => c.Name));
                if (path is null && variants.Length > 1)
                {
                    temporary = Path.Combine(Path.GetTempPath(), $"poip-campaign-{Environment.ProcessId}.txt");
                    path = temporary;
                }

                if (path is not null)
                {
                    await file.WriteAsync(path, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (PoIPDecodeException e)
        {
            Console.Error.WriteLine($"error: {settings.Resume}: {e.Message}");
            return 2;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"error: {settings.Resume}: {e.Message}");
            return 1;
        }

        try
        {
            if (settings.Only is not null || variants.Length == 1)
            {
                string[] mine = settings.Only is { } only ? [only] : variants;
                file = await RunHereAsync(settings, configurations, mine, file, path, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                file = await RunChildrenAsync(settings, configurations, variants, file, path!, definition, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (PoIPDecodeException e)
        {
            Console.Error.WriteLine($"error: {path}: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is EngineException or InvalidOperationException or IOException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 1;
        }
        finally
        {
            if (temporary is not null)
            {
                File.Delete(temporary);
            }
        }

        if (settings.Only is null)
        {
            Print(file, settings.Json, clock.Elapsed.TotalSeconds, settings.Resume);
        }

        return file.FalsePositives == 0 ? 0 : 1;
    }

    private static async Task<ProofCampaignFile> RunHereAsync(
        ProofsCampaignSettings settings, IReadOnlyList<ProofCampaignConfiguration> configurations, string[] variants, ProofCampaignFile file, string? path, CancellationToken cancellationToken)
    {
        string directory = settings.Directory ?? Path.Combine(Path.GetTempPath(), "poip-proofs-matrix");
        var models = new Dictionary<string, string>();
        string Model(ProofCampaignConfiguration c)
        {
            if (!models.TryGetValue(c.Set, out string? model))
            {
                model = c.Set switch
                {
                    "stories260K" => RealProofMatrix.Stories260KSet(ModelLocator.Stories260K() ?? throw new InvalidOperationException("stories260K.gguf not found beside the repository (../shared/models)."), directory).ClaimedModel,
                    "synth-flat-q4_k_m" => RealProofMatrix.SynthesizeModelSet(directory, SynthesisType.Q4_K_M, RealProofMatrix.FlatShape).ClaimedModel,
                    _ => RealProofMatrix.SynthesizeModelSet(directory, c.WeightType, new ProofMatrixShape()).ClaimedModel,
                };
                models[c.Set] = model;
            }

            return model;
        }

        var mine = Enumerable.Range(0, configurations.Count).Where(i => variants.Contains(configurations[i].CpuVariant)).ToArray();
        while (file.Receipts < settings.Receipts)
        {
            int next = mine.MinBy(i => file.Tallies[i].Receipts);
            var configuration = configurations[next];
            int count = (int)Math.Min(settings.Batch, settings.Receipts - file.Receipts);
            var watch = Stopwatch.StartNew();
            var batch = await ProofCampaign.RunBatchAsync(configuration, next, Model(configuration), file.Tallies[next].Receipts, count, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            file.Add(next, batch);
            if (path is not null)
            {
                await file.WriteAsync(path, cancellationToken).ConfigureAwait(false);
            }

            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"campaign: {configuration.Name}: +{batch.Receipts} in {watch.Elapsed.TotalSeconds:F1} s (FP {batch.FalsePositives}, inconclusive {batch.Inconclusive}, replayed {batch.Replayed}); total {file.Receipts}, FP {file.FalsePositives}, bound {file.UpperBound:G3}"));
        }

        return file;
    }

    private static async Task<ProofCampaignFile> RunChildrenAsync(
        ProofsCampaignSettings settings, IReadOnlyList<ProofCampaignConfiguration> configurations, string[] variants, ProofCampaignFile file, string path, string definition, CancellationToken cancellationToken)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path to start child processes.");
        while (file.Receipts < settings.Receipts)
        {
            // The variant with the fewest receipts runs one batch of each of its configurations.
            string variant = variants.MinBy(v => file.Tallies.Where((t, i) => configurations[i].CpuVariant == v).Sum(t => t.Receipts))!;
            int own = configurations.Count(c => c.CpuVariant == variant);
            long target = Math.Min(settings.Receipts, file.Receipts + ((long)own * settings.Batch));
            var start = new ProcessStartInfo(self) { UseShellExecute = false, RedirectStandardOutput = true };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                start.ArgumentList.Add(typeof(ProofsCampaignCommand).Assembly.Location);
            }

            foreach (string arg in (string[])["proofs", "campaign", "--cpu", string.Join(',', variants), "--only", variant, "--resume", path, "--receipts", target.ToString(CultureInfo.InvariantCulture), "--batch", settings.Batch.ToString(CultureInfo.InvariantCulture)])
            {
                start.ArgumentList.Add(arg);
            }

            if (settings.Directory is { } directory)
            {
                start.ArgumentList.Add("--dir");
                start.ArgumentList.Add(Path.GetFullPath(directory));
            }

            using var child = Process.Start(start) ?? throw new InvalidOperationException("could not start a child process.");
            _ = await child.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            await child.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (child.ExitCode is not (0 or 1))
            {
                throw new InvalidOperationException($"the {variant} child process exited with {child.ExitCode}.");
            }

            long before = file.Receipts;
            file = await ProofCampaignFile.ReadAsync(path, definition, cancellationToken).ConfigureAwait(false);
            if (file.Receipts <= before)
            {
                throw new InvalidOperationException($"the {variant} child process added no receipts.");
            }
        }

        return file;
    }

    private static void Print(ProofCampaignFile file, bool json, double seconds, string? resume)
    {
        if (json)
        {
            var output = new Dictionary<string, object?>
            {
                ["receipts"] = file.Receipts,
                ["false_positives"] = file.FalsePositives,
                ["fp_upper_bound"] = file.UpperBound,
                ["inconclusive"] = file.Inconclusive,
                ["replayed"] = file.Tallies.Sum(t => t.Replayed),
                ["configurations"] = file.Tallies.Select(t => new Dictionary<string, object>
                {
                    ["name"] = t.Configuration, ["receipts"] = t.Receipts, ["false_positives"] = t.FalsePositives, ["fp_upper_bound"] = t.UpperBound,
                    ["inconclusive"] = t.Inconclusive, ["replayed"] = t.Replayed, ["slack_used"] = t.SlackUsed,
                }).ToArray(),
                ["failures"] = file.Failures.Take(20).ToArray(),
                ["file"] = resume,
                ["seconds"] = Math.Round(seconds, 1),
            };
            Console.WriteLine(JsonSerializer.Serialize(output));
            return;
        }

        var text = new System.Text.StringBuilder();
        void Line(FormattableString line) => text.AppendLine(FormattableString.Invariant(line));
        Line($"{"configuration",-58}{"receipts",9}{"FP",5}{"undecided",10}{"replayed",9}{"slack",7}  95% upper bound");
        foreach (var t in file.Tallies)
        {
            Line($"{t.Configuration,-58}{t.Receipts,9}{t.FalsePositives,5}{t.Inconclusive,10}{t.Replayed,9}{t.SlackUsed,7}  {t.UpperBound:G3}");
        }

        foreach (string failure in file.Failures.Take(20))
        {
            text.AppendLine(failure);
        }

        Line($"overall: {file.Receipts} honest receipts in {file.Tallies.Count} configurations, {file.FalsePositives} false positives (fraud), {file.Inconclusive} undecided; Clopper-Pearson 95% upper bound on the false-positive rate {file.UpperBound:G3}; {seconds:F0} s.");
        Console.Write(text.ToString());
    }
}

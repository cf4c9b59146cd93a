using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using PoIP.Inference.Commitments;
using PoIP.Inference.Gguf;
using PoIP.Inference.Llama;
using PoIP.Inference.Verification;
using PoIP.Testing.Verification;
using Spectre.Console;
using Spectre.Console.Cli;

namespace PoIP.Node.Commands;

internal sealed class ProofsMatrixSettings : CommandSettings
{
    [CommandOption("--cases <N>")]
    [Description("Cases per model set and generator configuration; each case is one honest receipt plus one of every attack (default 10).")]
    public int Cases { get; init; } = 10;

    [CommandOption("--sets <LIST>")]
    [Description("Model sets, comma-separated: stories, f32, f16, q8_0, q4_k_m, flat (Q4_K_M, 512 wide, 8 layers, 32,000-token vocabulary: nearly flat logits) (default all). Ignored with --model.")]
    public string Sets { get; init; } = "stories,f32,f16,q8_0,q4_k_m,flat";

    [CommandOption("--attacks <LIST>")]
    [Description("Attacks to play, comma-separated names of docs/proofs.md section 3 (default all).")]
    public string? Attacks { get; init; }

    [CommandOption("--stop <TEXT>")]
    [Description("Give every case this stop sequence instead of its own (e.g. \".\" so that StopSequenceIgnored applies often).")]
    public string? Stop { get; init; }

    [CommandOption("--replay <POLICY>")]
    [Description("The verifier's decoding replay: disputed (default: settles sampling disputes), never (the teacher-forced check alone), always, only (the replay alone, no prefill).")]
    public string Replay { get; init; } = "disputed";

    [CommandOption("--model <PATH>")]
    [Description("A claimed model of your own instead of the synthesized sets (with --weight-type, and optionally --other, --cheaper, --small).")]
    public string? Model { get; init; }

    [CommandOption("--weight-type <T>")]
    [Description("Weight type of --model: f32, f16, q8_0, q4_k_m (selects the thresholds; default f16).")]
    public string WeightType { get; init; } = "f16";

    [CommandOption("--other <PATH>")]
    [Description("With --model: another model with the same vocabulary and width.")]
    public string? Other { get; init; }

    [CommandOption("--cheaper <PATH>")]
    [Description("With --model: the same weights in a cheaper quantisation.")]
    public string? Cheaper { get; init; }

    [CommandOption("--small <PATH>")]
    [Description("With --model: a small model with the same vocabulary.")]
    public string? Small { get; init; }

    [CommandOption("--generators <G>")]
    [Description("all (llama t2/ub512, t1/ub16, t2/ub7, and the managed engine on F32/F16) or standard (default all).")]
    public string Generators { get; init; } = "all";

    [CommandOption("--max-tokens <N>")]
    [Description("Largest output per case (default 48; cases draw 8..N).")]
    public int MaxTokens { get; init; } = 48;

    [CommandOption("--cpu <VARIANT>")]
    [Description("llama.cpp CPU variant of this process: auto, avx512, avx2, avx, noavx (default auto).")]
    public string Cpu { get; init; } = "auto";

    [CommandOption("--variants <LIST>")]
    [Description("Run one child process per CPU variant (e.g. avx512,avx2) and add up their results; the variant is process-wide in llama.cpp.")]
    public string? Variants { get; init; }

    [CommandOption("--dir <PATH>")]
    [Description("Where synthesized models are written and reused (default: <temp>/poip-proofs-matrix).")]
    public string? Directory { get; init; }

    [CommandOption("--json")]
    [Description("Print one JSON line instead of tables.")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        Cases is < 1 or > 100_000 ? ValidationResult.Error("--cases must be in [1, 100000].")
        : MaxTokens is < 8 or > 120 ? ValidationResult.Error("--max-tokens must be in [8, 120].")
        : Generators is not ("all" or "standard") ? ValidationResult.Error("--generators must be all or standard.")
        : ParseVariant(Cpu) is null ? ValidationResult.Error("--cpu must be auto, avx512, avx2, avx or noavx.")
        : ParseType(WeightType) is null ? ValidationResult.Error("--weight-type must be f32, f16, q8_0 or q4_k_m.")
        : ParseReplay(Replay) is null ? ValidationResult.Error("--replay must be disputed, never, always or only.")
        : Stop is { Length: 0 or > 64 } ? ValidationResult.Error("--stop must be 1 to 64 characters.")
        : Attacks is not null && ParseAttacks(Attacks) is null ? ValidationResult.Error("--attacks must list attack names (e.g. OtherModel,StopSequenceForged), each once.")
        : ValidationResult.Success();

    internal static LlamaCpuVariant? ParseVariant(string text) => text.ToLowerInvariant() switch
    {
        "auto" => LlamaCpuVariant.Auto,
        "avx512" => LlamaCpuVariant.Avx512,
        "avx2" => LlamaCpuVariant.Avx2,
        "avx" => LlamaCpuVariant.Avx,
        "noavx" => LlamaCpuVariant.NoAvx,
        _ => null,
    };

    internal static ProofAttack[]? ParseAttacks(string text)
    {
        string[] names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var attacks = new List<ProofAttack>();
        foreach (string name in names)
        {
            if (!Enum.TryParse(name, ignoreCase: true, out ProofAttack attack) || !Enum.IsDefined(attack) || int.TryParse(name, out _) || attacks.Contains(attack))
            {
                return null;
            }

            attacks.Add(attack);
        }

        return attacks.Count > 0 ? [.. attacks] : null;
    }

    internal static DecodingReplayPolicy? ParseReplay(string text) => text.ToLowerInvariant() switch
    {
        "disputed" => DecodingReplayPolicy.WhenDisputed,
        "never" => DecodingReplayPolicy.Never,
        "always" => DecodingReplayPolicy.Always,
        "only" => DecodingReplayPolicy.ReplayOnly,
        _ => null,
    };

    internal static SynthesisType? ParseType(string text) => text.ToLowerInvariant() switch
    {
        "f32" => SynthesisType.F32,
        "f16" => SynthesisType.F16,
        "q8_0" => SynthesisType.Q8_0,
        "q4_k_m" => SynthesisType.Q4_K_M,
        _ => null,
    };
}

/// <summary>Statistics of the worst chunk per receipt (largest trimmed-mean relative error) over a row.</summary>
internal sealed record WorstStats(int Receipts, double TrimmedMin, double TrimmedMax, double MedianMin, double MedianMax, int MismatchMin, int MismatchMax, int TopK)
{
    public static WorstStats? From(IReadOnlyList<ChunkComparison> chunks) => chunks.Count == 0 ? null : new(
        chunks.Count, chunks.Min(c => c.TrimmedMeanRelativeError), chunks.Max(c => c.TrimmedMeanRelativeError), chunks.Min(c => c.MedianRelativeError),
        chunks.Max(c => c.MedianRelativeError), chunks.Min(c => c.Mismatches), chunks.Max(c => c.Mismatches), chunks.Max(c => c.TopK));

    public static WorstStats? Merge(IEnumerable<WorstStats?> all)
    {
        var list = all.OfType<WorstStats>().ToArray();
        return list.Length == 0 ? null : new(
            list.Sum(s => s.Receipts), list.Min(s => s.TrimmedMin), list.Max(s => s.TrimmedMax), list.Min(s => s.MedianMin), list.Max(s => s.MedianMax),
            list.Min(s => s.MismatchMin), list.Max(s => s.MismatchMax), list.Max(s => s.TopK));
    }
}

internal sealed record RowCounts(int Cases, int Caught, int Missed, int NotApplicable, int Slack, int Replayed, Dictionary<string, int> Reasons, WorstStats? Worst, int Inconclusive = 0)
{
    public static RowCounts From(ProofMatrixRow row) => new(row.Cases, row.Caught, row.Missed, row.NotApplicable, row.SlackUsed, row.Replayed, row.Reasons.ToDictionary(r => r.Key.ToString(), r => r.Value), WorstStats.From(row.WorstChunks), row.Inconclusive);

    public static RowCounts Merge(IEnumerable<RowCounts> rows)
    {
        var list = rows.ToArray();
        var reasons = new Dictionary<string, int>();
        foreach (var (reason, count) in list.SelectMany(r => r.Reasons))
        {
            reasons[reason] = reasons.GetValueOrDefault(reason) + count;
        }

        return new(list.Sum(r => r.Cases), list.Sum(r => r.Caught), list.Sum(r => r.Missed), list.Sum(r => r.NotApplicable), list.Sum(r => r.Slack), list.Sum(r => r.Replayed), reasons, WorstStats.Merge(list.Select(r => r.Worst)), list.Sum(r => r.Inconclusive));
    }
}

internal sealed record MatrixRunRow(string Set, string Weight, string Generator, string Cpu, int Cases, double Seconds, RowCounts Honest, Dictionary<string, RowCounts> Attacks, IReadOnlyList<string> Failures);

internal sealed record MatrixOutput(IReadOnlyList<MatrixRunRow> Runs, RowCounts Honest, Dictionary<string, RowCounts> Attacks, Dictionary<string, Dictionary<string, RowCounts>> Calibration, double Seconds)
{
    public static MatrixOutput From(IReadOnlyList<MatrixRunRow> runs, double seconds)
    {
        var attacks = Enum.GetValues<ProofAttack>().ToDictionary(a => a.ToString(), a => RowCounts.Merge(runs.Select(r => r.Attacks[a.ToString()])));
        var calibration = runs.GroupBy(r => r.Set + " " + r.Weight).ToDictionary(
            g => g.Key,
            g => ActivationAttacks.Select(a => a.ToString()).Prepend("honest").ToDictionary(
                name => name,
                name => RowCounts.Merge(g.Select(r => name == "honest" ? r.Honest : r.Attacks[name]))));
        return new(runs, RowCounts.Merge(runs.Select(r => r.Honest)), attacks, calibration, seconds);
    }

    public static readonly ProofAttack[] ActivationAttacks = [ProofAttack.OtherModel, ProofAttack.CheaperQuantisation, ProofAttack.AdjacentQuantisation, ProofAttack.KvCacheChanged, ProofAttack.PromptChangedOneToken, ProofAttack.PromptTruncatedFront];

    public int Misses => Attacks.Values.Sum(a => a.Missed);
}

internal sealed class ProofsMatrixCommand : AsyncCommand<ProofsMatrixSettings>
{
    private static readonly JsonSerializerOptions JsonOptions = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public override async Task<int> ExecuteAsync(CommandContext context, ProofsMatrixSettings settings, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        List<MatrixRunRow> runs;
        try
        {
            runs = settings.Variants is { } variants
                ? await RunChildrenAsync(context, settings, variants, cancellationToken).ConfigureAwait(false)
                : await RunHereAsync(settings, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is PoIP.Core.Errors.EngineException or InvalidOperationException or IOException or ArgumentException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 2;
        }

        var output = MatrixOutput.From(runs, clock.Elapsed.TotalSeconds);
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(output, JsonOptions));
        }
        else
        {
            Print(output);
        }

        return output.Honest.Caught == 0 && output.Misses == 0 ? 0 : 1;
    }

    private static async Task<List<MatrixRunRow>> RunHereAsync(ProofsMatrixSettings settings, CancellationToken cancellationToken)
    {
        var variant = ProofsMatrixSettings.ParseVariant(settings.Cpu)!.Value;
        string directory = settings.Directory ?? Path.Combine(Path.GetTempPath(), "poip-proofs-matrix");
        var sets = new List<ProofMatrixModelSet>();
        if (settings.Model is { } model)
        {
            var type = ProofsMatrixSettings.ParseType(settings.WeightType)!.Value;
            sets.Add(new ProofMatrixModelSet(Path.GetFileNameWithoutExtension(model), type, Path.GetFullPath(model), Full(settings.Other), Full(settings.Cheaper), Full(settings.Small)));
        }
        else
        {
            foreach (string name in settings.Sets.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (name == "stories")
                {
                    string stories = ModelLocator.Stories260K() ?? throw new InvalidOperationException("stories260K.gguf not found beside the repository (../shared/models).");
                    sets.Add(RealProofMatrix.Stories260KSet(stories, directory));
                }
                else if (name == "flat")
                {
                    sets.Add(RealProofMatrix.SynthesizeModelSet(directory, SynthesisType.Q4_K_M, RealProofMatrix.FlatShape) with { Name = "synth-flat-q4_k_m" });
                }
                else
                {
                    var type = ProofsMatrixSettings.ParseType(name) ?? throw new ArgumentException($"unknown model set '{name}'.");
                    sets.Add(RealProofMatrix.SynthesizeModelSet(directory, type, new ProofMatrixShape()));
                }
            }
        }

        var rows = new List<MatrixRunRow>();
        var time = TimeProvider.System;
        int caseOffset = 0;
        foreach (var set in sets)
        {
            var generators = settings.Generators == "standard" ? [ProofMatrixGenerator.Standard] : ProofMatrixGenerator.All.Where(g => !g.Managed || set.ManagedEngineApplies).ToArray();
            foreach (var generator in generators)
            {
                var cases = RealProofMatrix.Cases(settings.Cases, caseOffset, settings.MaxTokens);
                if (settings.Stop is { } stop)
                {
                    cases = [.. cases.Select(c => c with { Sampling = c.Sampling with { StopSequences = [stop] } })];
                }

                caseOffset += settings.Cases;
                var watch = Stopwatch.StartNew();
                var attacks = settings.Attacks is { } list ? ProofsMatrixSettings.ParseAttacks(list)! : Enum.GetValues<ProofAttack>();
                var run = await RealProofMatrix.RunAsync(set, generator, cases, attacks, variant, time, ProofsMatrixSettings.ParseReplay(settings.Replay)!.Value, cancellationToken).ConfigureAwait(false);
                var report = run.Report;
                rows.Add(new MatrixRunRow(set.Name, set.WeightType.ToString(), generator.Name, run.CpuVariant, cases.Count, watch.Elapsed.TotalSeconds, RowCounts.From(report.Honest),
                    report.Attacks.ToDictionary(r => r.Attack!.Value.ToString(), RowCounts.From), [.. report.Failures.Where(f => f.StartsWith("false", StringComparison.Ordinal)).Take(20).Concat(report.Failures.Where(f => !f.StartsWith("false", StringComparison.Ordinal)).Take(5))]));
                if (!settings.Json)
                {
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{set.Name} / {generator.Name} / {run.CpuVariant}: {cases.Count} cases in {watch.Elapsed.TotalSeconds:F1} s, honest FP {report.Honest.Caught}, missed {report.Attacks.Sum(a => a.Missed)}"));
                }
            }
        }

        return rows;
    }

    private static string? Full(string? path) => path is null ? null : Path.GetFullPath(path);

    private static async Task<List<MatrixRunRow>> RunChildrenAsync(CommandContext context, ProofsMatrixSettings settings, string variants, CancellationToken cancellationToken)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path to start child processes.");
        var rows = new List<MatrixRunRow>();
        foreach (string variant in variants.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (ProofsMatrixSettings.ParseVariant(variant) is null)
            {
                throw new ArgumentException($"unknown CPU variant '{variant}'.");
            }

            var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = false, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                start.ArgumentList.Add(typeof(ProofsMatrixCommand).Assembly.Location);
            }

            start.ArgumentList.Add("proofs");
            start.ArgumentList.Add("matrix");
            foreach (string arg in ChildArguments(context, settings))
            {
                start.ArgumentList.Add(arg);
            }

            start.ArgumentList.Add("--cpu");
            start.ArgumentList.Add(variant);
            start.ArgumentList.Add("--json");

            using var child = Process.Start(start) ?? throw new InvalidOperationException("could not start a child process.");
            string stdout = await child.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            await child.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            string? line = stdout.Split('\n').LastOrDefault(l => l.StartsWith('{'));
            var output = line is null ? null : JsonSerializer.Deserialize<MatrixOutput>(line, JsonOptions);
            if (output is null)
            {
                throw new InvalidOperationException($"the {variant} child exited with {child.ExitCode} without a JSON result.");
            }

            rows.AddRange(output.Runs);
        }

        return rows;
    }

    private static IEnumerable<string> ChildArguments(CommandContext context, ProofsMatrixSettings settings)
    {
        _ = context;
        yield return "--cases";
        yield return settings.Cases.ToString(CultureInfo.InvariantCulture);
        yield return "--sets";
        yield return settings.Sets;
        yield return "--generators";
        yield return settings.Generators;
        yield return "--replay";
        yield return settings.Replay;
        yield return "--max-tokens";
        yield return settings.MaxTokens.ToString(CultureInfo.InvariantCulture);
        yield return "--weight-type";
        yield return settings.WeightType;
        if (settings.Stop is { } stop)
        {
            yield return "--stop";
            yield return stop;
        }

        if (settings.Attacks is { } attacks)
        {
            yield return "--attacks";
            yield return attacks;
        }
        foreach (var (name, value) in new[] { ("--model", settings.Model), ("--other", settings.Other), ("--cheaper", settings.Cheaper), ("--small", settings.Small), ("--dir", settings.Directory) })
        {
            if (value is not null)
            {
                yield return name;
                yield return Path.GetFullPath(value);
            }
        }
    }

    private static string F(double value) => double.IsPositiveInfinity(value) ? "inf" : value.ToString("G3", CultureInfo.InvariantCulture);

    private static void Print(MatrixOutput output)
    {
        var text = new System.Text.StringBuilder();
        void Line(FormattableString line) => text.AppendLine(FormattableString.Invariant(line));
        Line($"per configuration (verifier: llama.cpp, 2 threads, n_ubatch 512, same CPU variant as the generator)");
        Line($"{"set",-18}{"weights",-8}{"generator",-16}{"cpu",-8}{"honest",7}{"FP",5}{"slack",6}{"replay",7}{"attacks",8}{"caught",7}{"missed",7}{"s",6}");
        foreach (var run in output.Runs)
        {
            Line($"{run.Set,-18}{run.Weight,-8}{run.Generator,-16}{run.Cpu,-8}{run.Honest.Cases,7}{run.Honest.Caught,5}{run.Honest.Slack,6}{run.Honest.Replayed,7}{run.Attacks.Values.Sum(a => a.Cases),8}{run.Attacks.Values.Sum(a => a.Caught),7}{run.Attacks.Values.Sum(a => a.Missed),7}{run.Seconds,6:F0}");
        }

        Line($"");
        Line($"detection matrix (all configurations)");
        Line($"{"row",-24}{"cases",7}{"caught",8}{"missed",8}{"n/a",6}  reasons");
        Line($"{"honest (caught = FP)",-24}{output.Honest.Cases,7}{output.Honest.Caught,8}{output.Honest.Missed,8}{output.Honest.NotApplicable,6}  {Reasons(output.Honest)}");
        foreach (var (name, row) in output.Attacks)
        {
            Line($"{name,-24}{row.Cases,7}{row.Caught,8}{row.Missed,8}{row.NotApplicable,6}  {Reasons(row)}");
        }

        Line($"");
        Line($"calibration: the worst chunk of each receipt (largest trimmed-mean relative error)");
        Line($"{"set weights",-20}{"row",-24}{"receipts",9}  {"trimmed mean [min, max]",-26}{"median [min, max]",-26}mismatches [min, max]");
        foreach (var (weight, rows) in output.Calibration)
        {
            foreach (var (name, row) in rows)
            {
                var w = row.Worst;
                string trimmed = w is null ? "-" : $"[{F(w.TrimmedMin)}, {F(w.TrimmedMax)}]";
                string median = w is null ? "-" : $"[{F(w.MedianMin)}, {F(w.MedianMax)}]";
                string mismatches = w is null ? "-" : FormattableString.Invariant($"[{w.MismatchMin}, {w.MismatchMax}] of {w.TopK}");
                Line($"{weight,-20}{name,-24}{w?.Receipts ?? 0,9}  {trimmed,-26}{median,-26}{mismatches}");
            }
        }

        foreach (string failure in output.Runs.SelectMany(r => r.Failures).Take(40))
        {
            text.AppendLine(failure);
        }

        Line($"{output.Honest.Cases} honest receipts, {output.Honest.Caught} false positives; {output.Attacks.Values.Sum(a => a.Cases)} attack cases, {output.Misses} missed; {output.Seconds:F0} s.");
        Console.Write(text.ToString());
    }

    private static string Reasons(RowCounts row) =>
        string.Join(", ", row.Reasons.Select(r => $"{r.Key}={r.Value}")) + (row.Inconclusive > 0 ? $" (of which inconclusive: {row.Inconclusive})" : "");
}

using System.Diagnostics;
using System.Globalization;
using PoIP.Benchmarks.Inference;
using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;
using PoIP.Inference.Llama;
using PoIP.Inference.Sampling;
using PoIP.Inference.Verification;

namespace PoIP.Benchmarks.Proofs;

/// <summary>
/// Activation-commitment costs. Without an engine: building a commitment (observe every position +
/// top-k + interpolation at the end) and comparing it on the verifier's side, per token, for a model
/// width (default 4096, k = 128, chunks of 32), against the baseline of copying each hidden state
/// once (what handing it to any observer costs). With the llama.cpp engine (stories260K by default,
/// <c>--model PATH</c> for others, <c>--no-engine</c> to skip): the commitment's overhead on
/// generation, and the full verifier's time over generation and over a bare teacher-forced prefill
/// of the same tokens, all measured in the same run; amortised with the audit probability p.
/// Usage: <c>proofs [hidden=4096] [tokens=1024] [--model PATH] [--decode-tokens 256] [--threads 1]
/// [--rounds 5] [--audit-p 0.00844] [--temperature 0.8] [--breakdown] [--no-engine] [--ubatch 512] [--fa on|off] [--repack on|off]</c>
/// (<c>--ubatch 32 --fa on --repack off</c>: the configuration whose prefill equals decoding on K-quant models, docs/proofs.md §9b).
/// </summary>
internal sealed class ProofsBenchmark : IMacroBenchmark
{
    public string Name => "proofs";

    public string Description => "Activation commitment build/compare cost per token and bytes per token (engine figures with --model)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var positional = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || !args[i - 1].StartsWith("--", StringComparison.Ordinal))).ToArray();
        int hidden = positional.Length > 0 ? int.Parse(positional[0], CultureInfo.InvariantCulture) : 4096;
        int tokens = positional.Length > 1 ? int.Parse(positional[1], CultureInfo.InvariantCulture) : 1024;
        string? model = Option(args, "--model");
        int decodeTokens = int.Parse(Option(args, "--decode-tokens") ?? "256", CultureInfo.InvariantCulture);
        int threads = int.Parse(Option(args, "--threads") ?? "1", CultureInfo.InvariantCulture);
        int rounds = int.Parse(Option(args, "--rounds") ?? "5", CultureInfo.InvariantCulture);
        double auditP = double.Parse(Option(args, "--audit-p") ?? "0.00844", CultureInfo.InvariantCulture);

        var parameters = CommitmentParameters.Standard(hidden, tokens);
        var states = Generate(tokens, hidden);
        var binding = new CommitmentBinding(new RequestId(Sha256Digest.Compute("r"u8)), new ModelId(Sha256Digest.Compute("m"u8)), new EngineIdentity("bench", "0", "cpu", "", false, "f16", 512), Sha256Digest.Compute("i"u8), Sha256Digest.Compute("o"u8));
        double bestCopy = double.MaxValue, bestObserve = double.MaxValue, bestBuild = double.MaxValue, bestCompare = double.MaxValue;
        var copy = new float[hidden];
        byte[] encoded = [];
        for (int round = 0; round < 7; round++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var sw = Stopwatch.StartNew();
            for (int t = 0; t < tokens; t++)
            {
                states[t].CopyTo(copy, 0);
            }

            bestCopy = Math.Min(bestCopy, sw.Elapsed.TotalSeconds);
            GC.KeepAlive(copy);

            var builder = new CommitmentBuilder(parameters, hidden, tokens);
            sw.Restart();
            builder.OnPrefill(10, states[0]);
            for (int t = 0; t < tokens; t++)
            {
                builder.OnToken(t, 1, states[t], ReadOnlySpan<float>.Empty);
            }

            bestObserve = Math.Min(bestObserve, sw.Elapsed.TotalSeconds);
            sw.Restart();
            var commitment = builder.Build(binding);
            encoded = commitment.Encode();
            bestBuild = Math.Min(bestBuild, sw.Elapsed.TotalSeconds);

            sw.Restart();
            var comparer = new CommitmentComparer(ActivationCommitment.Decode(encoded), binding, CommitmentThresholds.Default);
            comparer.SetPrompt(states[0]);
            for (int t = 0; t < tokens; t++)
            {
                comparer.Add(states[t]);
            }

            bestCompare = Math.Min(bestCompare, sw.Elapsed.TotalSeconds);
            if (comparer.FirstFailure is not null)
            {
                throw new InvalidOperationException("an identical re-execution failed the comparison");
            }
        }

        double ns = 1e9 / tokens;
        var figures = new Dictionary<string, object>
        {
            ["name"] = "proofs",
            ["hidden"] = hidden,
            ["tokens"] = tokens,
            ["top_k"] = parameters.TopK,
            ["chunk"] = parameters.ChunkSize,
            ["bytes_per_token"] = BenchOutput.Round(encoded.Length / (double)tokens),
            ["bytes_per_token_256"] = BenchOutput.Round(CommitmentParameters.Standard(hidden, 256).EncodedLength(256) / 256.0),
            ["toploc_bytes_per_token"] = BenchOutput.Round(((Math.Ceiling(tokens / 32.0) + 1) * 258) / tokens),
            ["commit_ns_per_token"] = BenchOutput.Round((bestObserve + bestBuild) * ns, 1),
            ["commit_observe_ns_per_token"] = BenchOutput.Round(bestObserve * ns, 1),
            ["commit_build_ns_per_token"] = BenchOutput.Round(bestBuild * ns, 1),
            ["verify_compare_ns_per_token"] = BenchOutput.Round(bestCompare * ns, 1),
            ["baseline_copy_ns_per_token"] = BenchOutput.Round(bestCopy * ns, 1),
        };

        if (!args.Contains("--no-engine"))
        {
            model ??= EngineBenchmarkPaths.Stories260K();
            if (model is null || !File.Exists(model))
            {
                await Console.Error.WriteLineAsync("model not found: pass --model PATH (default ../shared/models/stories260K.gguf beside the repository root), or --no-engine.");
                return 2;
            }

            var engineOptions = new LlamaEngineOptions
            {
                ModelPath = model,
                Threads = threads,
                ContextSize = decodeTokens + 128,
                MicroBatchSize = int.Parse(Option(args, "--ubatch") ?? "512", CultureInfo.InvariantCulture),
                FlashAttention = Option(args, "--fa") == "on",
                WeightRepacking = Option(args, "--repack") != "off",
                MaxPromptTokens = 64,
                MaxOutputTokens = decodeTokens,
                MaxConcurrentSequences = 1,
            };
            await MeasureEngineAsync(figures, engineOptions, decodeTokens, rounds, auditP, float.Parse(Option(args, "--temperature") ?? "0.8", CultureInfo.InvariantCulture), args.Contains("--breakdown"), cancellationToken).ConfigureAwait(false);
        }

        BenchOutput.Print(figures);
        return 0;
    }

    /// <summary>
    /// Per round, interleaved (medians reported): generation without an observer; the node's path
    /// (generation recording the commitment, receipt signed, <see cref="ReceiptIssuer"/>); a bare
    /// teacher-forced prefill of the same prompt + output with an observer that does nothing; the
    /// full <see cref="ReexecutionVerifier"/> on that receipt with the teacher-forced check alone
    /// (signatures, roots, tokenization, termination, prefill, chunk comparison, sampler replay); and
    /// the verifier as validators run it, which also replays the decoding when that check is disputed.
    /// Round r uses seed 42 + r, so the share of receipts needing the replay is measured too.
    /// </summary>
    private static async Task MeasureEngineAsync(Dictionary<string, object> figures, LlamaEngineOptions options, int decodeTokens, int rounds, double auditP, float temperature, bool breakdown, CancellationToken ct)
    {
        const string Prompt = "Once upon a time, there was a little girl who";
        var engine = await LlamaInferenceEngine.LoadAsync(options, ct).ConfigureAwait(false);
        await using (engine.ConfigureAwait(false))
        {
            using var client = Ed25519KeyPair.Generate();
            using var node = Ed25519KeyPair.Generate();
            var sampling = new SamplingParameters { Temperature = temperature, TopK = 40, TopP = 0.95f, MinP = 0.05f };
            var prompt = engine.Tokenize(Prompt, addBeginOfSequence: true);
            var teacherForcedOnly = new ReexecutionVerifier(engine, new ReexecutionVerifierOptions { DecodingReplay = DecodingReplayPolicy.Never });
            var verifier = new ReexecutionVerifier(engine, new ReexecutionVerifierOptions());
            var replayOnlyVerifier = new ReexecutionVerifier(engine, new ReexecutionVerifierOptions { DecodingReplay = DecodingReplayPolicy.ReplayOnly });
            var nothing = new NullObserver();
            Samples plain = new(), committed = new(), prefill = new(), verify = new(), verifyFull = new(), verifyReplayOnly = new(), samplerOnly = new(), compareOnly = new();
            var disputes = new List<string>();
            var replayFractions = new List<double>();
            var outcomes = new List<string>();
            var forcedOutcomes = new List<string>();
            var replayOnlyOutcomes = new List<string>();
            int outputCount = 0, replayed = 0;
            for (int round = -1; round < rounds; round++) // round -1 warms every path up and is not counted
            {
                ct.ThrowIfCancellationRequested();
                bool counted = round >= 0;
                ulong seed = (ulong)(42 + Math.Max(0, round));
                var signed = SignedMessage.Create(client, InferenceRequest.ForPrompt(Prompt, engine.Model.Id, client.PeerId, sampling, seed, decodeTokens, TokenAmount.Zero, (ulong)(round + 2), TimeProvider.System.GetUtcNow().AddHours(1)));
                var generation = new GenerationRequest(prompt, sampling, seed, decodeTokens);
                var clock = Clock.Start();
                await foreach (var token in engine.GenerateAsync(generation, null, ct).ConfigureAwait(false))
                {
                    GC.KeepAlive(token);
                }

                clock.Stop(plain, counted);
                clock = Clock.Start();
                var file = await ReceiptIssuer.IssueAsync(engine, node, signed, Prompt, TokenAmount.Zero, TimeProvider.System, null, ct).ConfigureAwait(false);
                clock.Stop(committed, counted);
                outputCount = file.OutputTokens.Count;

                clock = Clock.Start();
                await engine.TeacherForceAsync(prompt, file.OutputTokens, nothing, ct).ConfigureAwait(false);
                clock.Stop(prefill, counted);

                var verificationCase = file.ToVerificationCase();
                clock = Clock.Start();
                var forced = await teacherForcedOnly.VerifyAsync(verificationCase, ct).ConfigureAwait(false);
                clock.Stop(verify, counted);
                clock = Clock.Start();
                var report = await verifier.VerifyWithDetailsAsync(verificationCase, ct).ConfigureAwait(false);
                clock.Stop(verifyFull, counted);
                clock = Clock.Start();
                var direct = await replayOnlyVerifier.VerifyAsync(verificationCase, ct).ConfigureAwait(false);
                clock.Stop(verifyReplayOnly, counted);
                if (counted)
                {
                    replayOnlyOutcomes.Add(Outcome(direct));
                    forcedOutcomes.Add(Outcome(forced));
                    outcomes.Add(Outcome(report.Result));
                    replayed += report.TeacherForced is null ? 0 : 1;
                }

                if (breakdown)
                {
                    // Where the verifier's time over a bare prefill goes: the same prefill with only the sampler replay, then with only the chunk comparison.
                    var replay = new SamplerOnlyObserver(new TokenSampler(engine.Model.VocabularySize), sampling, seed, prompt, file.OutputTokens);
                    clock = Clock.Start();
                    await engine.TeacherForceAsync(prompt, file.OutputTokens, replay, ct).ConfigureAwait(false);
                    clock.Stop(samplerOnly, counted);
                    if (counted)
                    {
                        // Every strict disagreement of the prefill's sampler with the claim (each one a dispute), and
                        // the share of the output a replay up to the last of them would decode.
                        disputes.Add(FormattableString.Invariant($"{replay.Mismatches}@{replay.LastMismatch}"));
                        replayFractions.Add((replay.LastMismatch + 1) / (double)file.OutputTokens.Count);
                    }

                    var receipt = file.Receipt.Message;
                    var binding = new CommitmentBinding(receipt.RequestId, receipt.ModelId, receipt.Engine, receipt.InputRoot, receipt.OutputRoot);
                    var comparing = new ComparingObserver(new CommitmentComparer(ActivationCommitment.Decode(receipt.Commitment.Span), binding, CommitmentThresholds.Default));
                    clock = Clock.Start();
                    await engine.TeacherForceAsync(prompt, file.OutputTokens, comparing, ct).ConfigureAwait(false);
                    clock.Stop(compareOnly, counted);
                }
            }

            // Ratios use process CPU time (getrusage through Environment.CpuUsage; with one llama.cpp thread it is
            // the work done), because on a shared machine wall time also counts waiting for a core. Wall-time
            // ratios are printed beside them.
            double overGeneration = verify.Cpu / committed.Cpu;
            double fullOverGeneration = verifyFull.Cpu / committed.Cpu;
            figures["model"] = Path.GetFileName(options.ModelPath);
            figures["engine"] = engine.Identity.ToString();
            figures["exact_prefill"] = engine.PrefillMatchesDecoding;
            figures["threads"] = options.Threads;
            figures["rounds"] = rounds;
            figures["prompt_tokens"] = prompt.Count;
            figures["decode_tokens"] = outputCount;
            figures["generate_cpu_ms"] = BenchOutput.Round(plain.Cpu, 2);
            figures["generate_committed_cpu_ms"] = BenchOutput.Round(committed.Cpu, 2);
            figures["prefill_cpu_ms"] = BenchOutput.Round(prefill.Cpu, 2);
            figures["verify_cpu_ms"] = BenchOutput.Round(verify.Cpu, 2);
            figures["commit_overhead"] = BenchOutput.Round((committed.Cpu / plain.Cpu) - 1, 4);
            figures["prefill_over_generation"] = BenchOutput.Round(prefill.Cpu / committed.Cpu, 4);
            figures["validator_over_generation"] = BenchOutput.Round(overGeneration, 4);
            figures["validator_over_prefill"] = BenchOutput.Round(verify.Cpu / prefill.Cpu, 4);
            figures["verify_with_replay_cpu_ms"] = BenchOutput.Round(verifyFull.Cpu, 2);
            figures["replayed_share"] = BenchOutput.Round(replayed / (double)rounds, 3);
            figures["validator_with_replay_over_generation"] = BenchOutput.Round(fullOverGeneration, 4);
            figures["verify_replay_only_cpu_ms"] = BenchOutput.Round(verifyReplayOnly.Cpu, 2);
            figures["validator_replay_only_over_generation"] = BenchOutput.Round(verifyReplayOnly.Cpu / committed.Cpu, 4);
            figures["wall_ms"] = $"generate {plain.Wall:F1}, committed {committed.Wall:F1}, prefill {prefill.Wall:F1}, verify {verify.Wall:F1}, verify with replay {verifyFull.Wall:F1}";
            figures["commit_overhead_wall"] = BenchOutput.Round((committed.Wall / plain.Wall) - 1, 4);
            figures["validator_over_generation_wall"] = BenchOutput.Round(verify.Wall / committed.Wall, 4);
            figures["validator_over_prefill_wall"] = BenchOutput.Round(verify.Wall / prefill.Wall, 4);
            if (breakdown)
            {
                figures["prefill_with_sampler_replay_cpu_ms"] = BenchOutput.Round(samplerOnly.Cpu, 2);
                figures["prefill_with_chunk_compare_cpu_ms"] = BenchOutput.Round(compareOnly.Cpu, 2);

                // "mismatches@last position" per round; a replay that stopped after the last disputed position
                // (the rest accepted by the teacher-forced check, as for an undisputed receipt) would decode
                // that share of the output: its estimated cost over generation.
                figures["prefill_disputes"] = string.Join(" ", disputes);
                double share = Median(replayFractions);
                figures["partial_replay_share_median"] = BenchOutput.Round(share, 3);
                figures["partial_replay_over_generation_estimate"] = BenchOutput.Round((verify.Cpu + ((verifyFull.Cpu - verify.Cpu) * share)) / committed.Cpu, 4);
            }

            // Every honest receipt must verify. The teacher-forced check alone may dispute one (the sampler's
            // choice flipped between decode and prefill; it then stops replaying the sampler, so its time is a
            // lower bound); the validator's verifier settles the dispute by a decoding replay. Both reported.
            figures["temperature"] = temperature;
            figures["teacher_forced_outcomes"] = Summary(forcedOutcomes);
            figures["replay_only_outcomes"] = Summary(replayOnlyOutcomes);
            figures["verify_outcomes"] = Summary(outcomes);
            figures["audit_p"] = auditP;
            figures["amortised_validator_over_generation"] = BenchOutput.Round(auditP * fullOverGeneration, 6);
        }
    }

    private static string Outcome(VerificationResult result) => result.Outcome == VerdictOutcome.Valid ? "valid" : $"{result.Outcome} {result.Reason} at {result.FirstFailingPosition}";

    private static string Summary(List<string> outcomes) => string.Join("; ", outcomes.GroupBy(o => o).Select(g => $"{g.Count()}x {g.Key}"));

    /// <summary>Wall and process CPU time of one measured section.</summary>
    private readonly record struct Clock(long Started, TimeSpan CpuStarted)
    {
        public static Clock Start() => new(Stopwatch.GetTimestamp(), Environment.CpuUsage.TotalTime);

        public void Stop(Samples samples, bool counted)
        {
            double cpu = (Environment.CpuUsage.TotalTime - CpuStarted).TotalMilliseconds;
            double wall = Stopwatch.GetElapsedTime(Started).TotalMilliseconds;
            if (counted)
            {
                samples.Add(wall, cpu);
            }
        }
    }

    /// <summary>Medians of the counted rounds.</summary>
    private sealed class Samples
    {
        private readonly List<double> _wall = [];
        private readonly List<double> _cpu = [];

        public double Wall => Median(_wall);

        public double Cpu => Median(_cpu);

        public void Add(double wall, double cpu)
        {
            _wall.Add(wall);
            _cpu.Add(cpu);
        }
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        values = [.. values];
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static float[][] Generate(int tokens, int hidden)
    {
        var random = new Random(1);
        return Enumerable.Range(0, tokens).Select(_ => Enumerable.Range(0, hidden).Select(_ => (float)(random.NextDouble() * 2 - 1) * (random.Next(40) == 0 ? 8f : 1f)).ToArray()).ToArray();
    }

    private sealed class NullObserver : IActivationObserver
    {
        public void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState)
        {
        }

        public void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits)
        {
        }
    }

    private sealed class ComparingObserver(CommitmentComparer comparer) : IActivationObserver
    {
        public void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState) => comparer.SetPrompt(lastHiddenState);

        public void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits) => comparer.Add(hiddenState);
    }

    private sealed class SamplerOnlyObserver(TokenSampler sampler, SamplingParameters sampling, ulong seed, IReadOnlyList<int> prompt, IReadOnlyList<int> output) : IActivationObserver
    {
        private readonly int[] _history = [.. prompt, .. output];

        public int Mismatches { get; private set; }

        /// <summary>The last position whose claimed token is not exactly the sampler's pick on the prefill's logits, or -1.</summary>
        public int LastMismatch { get; private set; } = -1;

        public void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState)
        {
        }

        public void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits)
        {
            if (sampler.Sample(logits, sampling, seed, index, _history.AsSpan(0, prompt.Count + index)) != output[index])
            {
                Mismatches++;
                LastMismatch = index;
            }
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using PoIP.Core.Engine;
using PoIP.Core.Hashing;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;

namespace PoIP.Benchmarks.Proofs;

/// <summary>
/// Activation-commitment costs. Without an engine: building a commitment (observe every position +
/// top-k + interpolation at the end) and comparing it on the verifier's side, per token, for a model
/// width (default 4096, k = 128, chunks of 32), against the baseline of copying each hidden state
/// once (what handing it to any observer costs). With <c>--model PATH</c> and an engine factory
/// (set <see cref="EngineFactory"/> after the engine merges) it also measures the commitment's
/// overhead on decoding and the validator's prefill against generation.
/// Usage: <c>proofs [hidden=4096] [tokens=1024] [--model PATH] [--decode-tokens 128]</c>.
/// </summary>
internal sealed class ProofsBenchmark : IMacroBenchmark
{
    /// <summary>
    /// Creates an engine for a model path. TODO(lead): after the llama.cpp engine merges, set this to
    /// the LlamaInferenceEngine loader (CPU, flash attention off, pinned KV type and ubatch).
    /// </summary>
    internal static Func<string, CancellationToken, Task<IInferenceEngine>>? EngineFactory { get; set; }

    public string Name => "proofs";

    public string Description => "Activation commitment build/compare cost per token and bytes per token (engine figures with --model)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var positional = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || !args[i - 1].StartsWith("--", StringComparison.Ordinal))).ToArray();
        int hidden = positional.Length > 0 ? int.Parse(positional[0], CultureInfo.InvariantCulture) : 4096;
        int tokens = positional.Length > 1 ? int.Parse(positional[1], CultureInfo.InvariantCulture) : 1024;
        string? model = Option(args, "--model");
        int decodeTokens = int.Parse(Option(args, "--decode-tokens") ?? "128", CultureInfo.InvariantCulture);

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

        if (model is not null && EngineFactory is not null)
        {
            await MeasureEngineAsync(figures, model, decodeTokens, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // TODO(lead): filled by `proofs --model PATH` once EngineFactory is wired to the llama.cpp engine.
            figures["commit_overhead_on_decode"] = "TODO";
            figures["validator_over_generation"] = "TODO";
            figures["validator_over_prefill"] = "TODO";
        }

        BenchOutput.Print(figures);
        return 0;
    }

    private static async Task MeasureEngineAsync(Dictionary<string, object> figures, string model, int decodeTokens, CancellationToken ct)
    {
        var engine = await EngineFactory!(model, ct).ConfigureAwait(false);
        await using (engine.ConfigureAwait(false))
        {
            var prompt = engine.Tokenize("Once upon a time, there was a little girl who", addBeginOfSequence: true);
            var request = new GenerationRequest(prompt, new SamplingParameters { Temperature = 0.8f }, 42, decodeTokens);
            double plain = double.MaxValue, committed = double.MaxValue, prefillPlain = double.MaxValue, prefillVerify = double.MaxValue;
            int[] output = [];
            for (int round = 0; round < 3; round++)
            {
                var sw = Stopwatch.StartNew();
                var tokens = new List<int>();
                await foreach (var t in engine.GenerateAsync(request, null, ct).ConfigureAwait(false))
                {
                    tokens.Add(t.TokenId);
                }

                plain = Math.Min(plain, sw.Elapsed.TotalSeconds);
                output = [.. tokens];

                var builder = CommitmentBuilder.ForModel(engine.Model, decodeTokens);
                sw.Restart();
                await foreach (var t in engine.GenerateAsync(request, builder, ct).ConfigureAwait(false))
                {
                    GC.KeepAlive(t);
                }

                var binding = new CommitmentBinding(default, engine.Model.Id, engine.Identity, default, default);
                var commitment = builder.Build(binding);
                committed = Math.Min(committed, sw.Elapsed.TotalSeconds);

                var nothing = new NullObserver();
                sw.Restart();
                await engine.TeacherForceAsync(prompt, output, nothing, ct).ConfigureAwait(false);
                prefillPlain = Math.Min(prefillPlain, sw.Elapsed.TotalSeconds);

                var comparer = new CommitmentComparer(commitment, binding, CommitmentThresholds.Default);
                sw.Restart();
                await engine.TeacherForceAsync(prompt, output, new ComparingObserver(comparer), ct).ConfigureAwait(false);
                prefillVerify = Math.Min(prefillVerify, sw.Elapsed.TotalSeconds);
            }

            figures["model"] = Path.GetFileName(model);
            figures["decode_tokens"] = output.Length;
            figures["commit_overhead_on_decode"] = BenchOutput.Round((committed / plain) - 1, 4);
            figures["validator_over_generation"] = BenchOutput.Round(prefillVerify / committed, 4);
            figures["validator_over_prefill"] = BenchOutput.Round(prefillVerify / prefillPlain, 4);
        }
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
}

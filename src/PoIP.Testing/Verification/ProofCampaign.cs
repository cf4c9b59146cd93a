using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PoIP.Core.Engine;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;
using PoIP.Inference.Gguf;
using PoIP.Inference.Llama;
using PoIP.Inference.Managed;
using PoIP.Inference.Verification;

namespace PoIP.Testing.Verification;

/// <summary>
/// One honest node configuration of the false-positive campaign: the model set, the engine (llama.cpp
/// with its threads, micro-batch, KV-cache type and flash attention, or the managed engine) and the
/// llama.cpp CPU variant of the process (generator and verifier share it).
/// </summary>
/// <param name="Set">Model set name (<c>stories260K</c>, <c>synth-f16</c>, ...).</param>
/// <param name="WeightType">Weight encoding of the set's model (selects the calibrated thresholds).</param>
/// <param name="CpuVariant">llama.cpp CPU variant (<c>avx512</c>, <c>avx2</c>).</param>
/// <param name="Managed">True: the managed reference engine generates.</param>
/// <param name="Threads">llama.cpp threads of the node.</param>
/// <param name="MicroBatchSize">llama.cpp n_ubatch of the node.</param>
/// <param name="KvCacheType">KV-cache type (node and verifier).</param>
/// <param name="FlashAttention">Flash attention (node and verifier).</param>
public sealed record ProofCampaignConfiguration(string Set, SynthesisType WeightType, string CpuVariant, bool Managed, int Threads, int MicroBatchSize, KvCacheType KvCacheType, bool FlashAttention)
{
    /// <summary>The canonical name, e.g. <c>synth-f16 llama t2 ub512 kv=f16 fa=off avx512</c>.</summary>
    public string Name => Managed
        ? $"{Set} managed {CpuVariant}"
        : string.Create(CultureInfo.InvariantCulture, $"{Set} llama t{Threads} ub{MicroBatchSize} kv={Kv(KvCacheType)} fa={(FlashAttention ? "on" : "off")} {CpuVariant}");

    /// <summary>The KV-cache type as the engine identity spells it.</summary>
    public static string Kv(KvCacheType type) => type switch { KvCacheType.F32 => "f32", KvCacheType.Q80 => "q8_0", _ => "f16" };
}

/// <summary>What one batch of a campaign configuration measured.</summary>
/// <param name="Receipts">Honest receipts generated and verified.</param>
/// <param name="FalsePositives">Judged fraud (a false fraud verdict: the figure the bound is about).</param>
/// <param name="Inconclusive">Judged inconclusive (undecided: never a slash, counted apart).</param>
/// <param name="Replayed">Settled by the decoding replay after a disputed teacher-forced check.</param>
/// <param name="SlackUsed">Positions accepted through the sampling slack.</param>
/// <param name="Failures">One line per receipt not judged valid.</param>
public sealed record ProofCampaignBatch(int Receipts, int FalsePositives, int Inconclusive, int Replayed, int SlackUsed, IReadOnlyList<string> Failures);

/// <summary>
/// The false-positive campaign (issue 15, docs/proofs.md §7b): honest receipts generated and verified
/// across every configuration the Inference Engine Standard allows — both engines, the CPU variants,
/// thread counts, micro-batches, KV-cache types and flash attention, greedy and sampled decoding with
/// top-k, top-p, min-p, repetition penalties and stop sequences, short and long prompts, on stories260K
/// and synthesized F16, Q8_0 and Q4_K_M models (and the flat 32,000-token Q4_K_M set). Receipt i of a
/// configuration is a deterministic function of (configuration, i), so a campaign resumes exactly
/// where its file stopped and anyone can rerun it.
/// </summary>
public static class ProofCampaign
{
    /// <summary>
    /// Version of the case generator and configuration list, bumped too when the verifier or the engines
    /// change what is judged (part of <see cref="Definition"/>): 2 = session 4's fixes of the two false
    /// positives the first campaign found, and long prompts of 4–7 sentences that fit every model's context (docs/proofs.md §7b);
    /// 3 = session 5: a sampling dispute of an inexact replay whose disagreements all lie within the slack is
    /// inconclusive, not fraud (finding 3); 4 = the replay trigger on activations above the honest level
    /// (<see cref="ReexecutionVerifierOptions.ReplayAboveTrimmedMeanError"/>).
    /// </summary>
    public const int GeneratorVersion = 4;

    /// <summary>Largest output of a campaign receipt.</summary>
    public const int MaxOutputTokens = 64;

    private static readonly string[] Sentences =
    [
        "Once upon a time", "Lily had a red ball.", "Tom and his dog went to the park", "the sun was big and happy",
        "She saw a little bird in the tree", "One day, a boy named Tom", "The cat and the fish", "They played with the toy all day",
        "Mom said to Lily", "There was a big house", "x", "The little girl wanted to help her friend",
        "He was very sad and did not know what to do.", "The dog ran fast and jumped over the log.",
    ];

    /// <summary>
    /// The configurations, in a fixed order, for the CPU variants <paramref name="cpuVariants"/>: per variant and
    /// model set, llama.cpp with (threads, n_ubatch, KV, FA) = (2, 512, f16, off), (1, 16, f16, off), (2, 7, f16, off),
    /// (1, 512, f32, off), (2, 64, f16, on), and (2, 512, q8_0, on) where the head dimension allows a Q8_0 cache;
    /// the managed engine on F32/F16 sets; the flat set with the first only (it is ~20× slower per receipt).
    /// </summary>
    public static IReadOnlyList<ProofCampaignConfiguration> Configurations(IReadOnlyList<string> cpuVariants)
    {
        ArgumentNullException.ThrowIfNull(cpuVariants);
        var list = new List<ProofCampaignConfiguration>();
        (string Set, SynthesisType Type, bool Q8Kv, bool Managed, bool Full)[] sets =
        [
            ("stories260K", SynthesisType.F32, false, true, true),
            ("synth-f16", SynthesisType.F16, true, true, true),
            ("synth-q8_0", SynthesisType.Q8_0, true, false, true),
            ("synth-q4_k_m", SynthesisType.Q4_K_M, true, false, true),
            ("synth-flat-q4_k_m", SynthesisType.Q4_K_M, false, false, false),
        ];
        foreach (string variant in cpuVariants)
        {
            foreach (var (set, type, q8Kv, managed, full) in sets)
            {
                ProofCampaignConfiguration Llama(int threads, int ubatch, KvCacheType kv, bool fa) => new(set, type, variant, false, threads, ubatch, kv, fa);
                list.Add(Llama(2, 512, KvCacheType.F16, false));
                if (!full)
                {
                    continue;
                }

                list.Add(Llama(1, 16, KvCacheType.F16, false));
                list.Add(Llama(2, 7, KvCacheType.F16, false));
                list.Add(Llama(1, 512, KvCacheType.F32, false));
                list.Add(Llama(2, 64, KvCacheType.F16, true));
                if (q8Kv)
                {
                    list.Add(Llama(2, 512, KvCacheType.Q80, true));
                }

                if (managed)
                {
                    list.Add(new ProofCampaignConfiguration(set, type, variant, true, 0, 1, KvCacheType.F16, false));
                }
            }
        }

        return list;
    }

    /// <summary>
    /// Fingerprint of everything that decides what a campaign measures: the case generator, the
    /// configuration list, the commitment format and the verifier's thresholds per weight type. A campaign
    /// file written under another definition is refused (its counts would not mean the same).
    /// </summary>
    public static string Definition(IReadOnlyList<ProofCampaignConfiguration> configurations)
    {
        ArgumentNullException.ThrowIfNull(configurations);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"poip/proofs-campaign/v{GeneratorVersion}\ncommitment v{ActivationCommitment.FormatVersion} k{CommitmentParameters.DefaultTopK} c{CommitmentParameters.DefaultChunkSize}\n");
        foreach (var type in new[] { SynthesisType.F32, SynthesisType.F16, SynthesisType.Q8_0, SynthesisType.Q4_K_M })
        {
            var options = VerifierCalibration.CalibratedOptions(type);
            var t = options.Thresholds;
            text.Append(CultureInfo.InvariantCulture, $"{type}: {t.MaxMismatchFraction} {t.GrossRelativeError} {t.MaxMedianRelativeError} {t.MaxTrimmedMeanRelativeError} {t.ValueFloor} slack {options.SamplingSlack} {options.MaxSlackFraction} {options.MinSlackPositions} replay above {options.ReplayAboveTrimmedMeanError}\n");
        }

        foreach (var configuration in configurations)
        {
            text.Append(configuration.Name).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>
    /// Receipt <paramref name="index"/> of configuration <paramref name="configuration"/>: a short prompt (three in
    /// four) or a long one (4–7 sentences, ~30–80 tokens on stories260K, up to ~300 on byte-level vocabularies); greedy or one of seven sampler settings (top-k,
    /// top-p, min-p, repetition penalties with two windows, one or two stop sequences, temperatures 0.6–1.5);
    /// 8 to <see cref="MaxOutputTokens"/> tokens; a seed of its own.
    /// </summary>
    public static ProofMatrixCase Case(int configuration, long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(configuration);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ulong h = Mix(((ulong)configuration << 40) ^ (ulong)index ^ 0x5EED_CA4Eul);
        string prompt;
        if (index % 4 == 3)
        {
            int count = 4 + (int)(h % 4);
            prompt = string.Join(' ', Enumerable.Range(0, count).Select(i => Sentences[(int)((h >> (4 + i)) % (ulong)Sentences.Length)]));
        }
        else
        {
            prompt = Sentences[(int)(h % (ulong)Sentences.Length)];
        }

        var sampling = (index % 8) switch
        {
            0 => SamplingParameters.Greedy,
            1 => new SamplingParameters { Temperature = 0.8f, TopK = 40, TopP = 0.95f, MinP = 0.05f },
            2 => new SamplingParameters { Temperature = 1.0f, TopK = 0, TopP = 0.9f, MinP = 0f },
            3 => new SamplingParameters { Temperature = 0.6f, TopK = 20, TopP = 1f, MinP = 0.1f, RepetitionPenalty = 1.2f },
            4 => new SamplingParameters { Temperature = 1.3f, TopK = 100, TopP = 0.98f, MinP = 0.02f },
            5 => new SamplingParameters { Temperature = 0.9f, StopSequences = ["e."] },
            6 => new SamplingParameters { Temperature = 0.7f, TopK = 0, TopP = 1f, MinP = 0f, RepetitionPenalty = 1.1f, RepetitionWindow = 16, StopSequences = [" the", "!"] },
            _ => new SamplingParameters { Temperature = 1.5f, TopK = 5, TopP = 0.8f, MinP = 0.01f, RepetitionPenalty = 1.05f },
        };
        int tokens = 8 + (int)((h >> 24) % (MaxOutputTokens - 7));
        return new ProofMatrixCase(prompt, sampling, Mix(h), tokens);
    }

    /// <summary>
    /// Generates and verifies <paramref name="count"/> honest receipts of <paramref name="configuration"/>
    /// (number <paramref name="configurationIndex"/> in the list) starting at receipt <paramref name="first"/>,
    /// on the claimed model <paramref name="modelPath"/>. The process must run the configuration's CPU variant.
    /// </summary>
    /// <exception cref="Core.Errors.EngineException">An engine failed to load.</exception>
    public static async Task<ProofCampaignBatch> RunBatchAsync(
        ProofCampaignConfiguration configuration, int configurationIndex, string modelPath, long first, int count, TimeProvider timeProvider, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        var variant = ParseVariant(configuration.CpuVariant);
        var engines = new List<IAsyncDisposable>();
        try
        {
            async Task<LlamaInferenceEngine> LoadLlama(int threads, int ubatch)
            {
                var engine = await LlamaInferenceEngine.LoadAsync(
                    new LlamaEngineOptions
                    {
                        ModelPath = modelPath, Threads = threads, MicroBatchSize = ubatch, ContextSize = 512, MaxPromptTokens = 512 - MaxOutputTokens - 1, MaxOutputTokens = MaxOutputTokens,
                        MaxConcurrentSequences = 1, CpuVariant = variant, KvCacheType = configuration.KvCacheType, FlashAttention = configuration.FlashAttention,
                    },
                    cancellationToken).ConfigureAwait(false);
                engines.Add(engine);
                return engine;
            }

            var verifierEngine = await LoadLlama(2, 512).ConfigureAwait(false);
            if (verifierEngine.Identity.CpuVariant != configuration.CpuVariant)
            {
                throw new InvalidOperationException($"this process runs llama.cpp {verifierEngine.Identity.CpuVariant}, the configuration needs {configuration.CpuVariant}.");
            }

            IInferenceEngine node;
            if (configuration.Managed)
            {
                var managed = await ManagedLlamaEngine.LoadAsync(modelPath, new ManagedLlamaEngineOptions { ContextLength = 512, MaxDegreeOfParallelism = 1 }, cancellationToken).ConfigureAwait(false);
                engines.Add(managed);
                node = managed;
            }
            else
            {
                node = await LoadLlama(configuration.Threads, configuration.MicroBatchSize).ConfigureAwait(false);
            }

            var verifier = new ReexecutionVerifier(verifierEngine, RealProofMatrix.CalibratedOptions(configuration.WeightType));
            var cases = Enumerable.Range(0, count).Select(i => Case(configurationIndex, first + i)).ToArray();
            var report = await new ProofMatrix(verifier, new ProofMatrixEngines(node), timeProvider).RunAsync(cases, [], cancellationToken).ConfigureAwait(false);
            var row = report.Honest;
            return new ProofCampaignBatch(row.Cases, row.Caught - row.Inconclusive, row.Inconclusive, row.Replayed, row.SlackUsed, [.. report.Failures.Select(f => configuration.Name + ": " + f)]);
        }
        finally
        {
            foreach (var engine in engines)
            {
                await engine.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The llama.cpp variant of a configuration's name (<c>avx512</c>, <c>avx2</c>, <c>avx</c>, <c>noavx</c>).</summary>
    /// <exception cref="ArgumentException">Unknown variant.</exception>
    public static LlamaCpuVariant ParseVariant(string name) => name switch
    {
        "avx512" => LlamaCpuVariant.Avx512,
        "avx2" => LlamaCpuVariant.Avx2,
        "avx" => LlamaCpuVariant.Avx,
        "noavx" => LlamaCpuVariant.NoAvx,
        _ => throw new ArgumentException($"unknown CPU variant '{name}'.", nameof(name)),
    };

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

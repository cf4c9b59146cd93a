using PoIP.Core.Engine;
using PoIP.Core.Protocol;
using PoIP.Inference.Commitments;
using PoIP.Inference.Gguf;
using PoIP.Inference.Llama;
using PoIP.Inference.Managed;
using PoIP.Inference.Verification;

namespace PoIP.Testing.Verification;

/// <summary>
/// The model files of one row group of the real-engine detection matrix: the claimed model and the
/// models its cheats use instead (each optional; a missing one makes its attack "n/a").
/// </summary>
/// <param name="Name">A short name for tables, e.g. <c>synth-f16</c>.</param>
/// <param name="WeightType">Weight encoding of the claimed model (selects the calibrated thresholds).</param>
/// <param name="ClaimedModel">The model the requests name (the verifier runs it).</param>
/// <param name="OtherModel">Same architecture and vocabulary, other weights.</param>
/// <param name="CheaperQuantisation">The claimed weights in a cheaper encoding.</param>
/// <param name="CheapSmallModel">A smaller model with the same vocabulary.</param>
/// <param name="AdjacentQuantisation">The claimed weights in the nearest cheaper encoding (F16 as Q8_0), if any.</param>
/// <param name="OtherKvCache">The KV-cache type of the <see cref="ProofAttack.KvCacheChanged"/> cheat (Q8_0 with flash attention), or null where no cheaper cache exists (a head dimension that rules Q8_0 out).</param>
public sealed record ProofMatrixModelSet(
    string Name, SynthesisType WeightType, string ClaimedModel, string? OtherModel, string? CheaperQuantisation, string? CheapSmallModel,
    string? AdjacentQuantisation = null, KvCacheType? OtherKvCache = KvCacheType.Q80)
{
    /// <summary>Whether the managed engine can generate for the claimed model (F32 and F16 weights).</summary>
    public bool ManagedEngineApplies => WeightType is SynthesisType.F32 or SynthesisType.F16;
}

/// <summary>How the honest node of a matrix run generates.</summary>
/// <param name="Name">A short name for tables, e.g. <c>llama t1 ub16</c>.</param>
/// <param name="Managed">True: the managed reference engine generates; false: llama.cpp.</param>
/// <param name="Threads">llama.cpp threads (ignored for the managed engine).</param>
/// <param name="MicroBatchSize">llama.cpp n_ubatch (ignored for the managed engine).</param>
public sealed record ProofMatrixGenerator(string Name, bool Managed, int Threads, int MicroBatchSize)
{
    /// <summary>The verifier's own configuration: llama.cpp, 2 threads, n_ubatch 512.</summary>
    public static ProofMatrixGenerator Standard { get; } = new("llama t2 ub512", false, 2, 512);

    /// <summary>
    /// True: node and verifier run llama.cpp in the configuration whose teacher-forced prefill equals decoding
    /// bit for bit on K-quant models (weight repacking off, flash attention on, the verifier at this
    /// generator's n_ubatch, which must be at most 63; docs/proofs.md §9b session 7).
    /// </summary>
    public bool ExactPrefill { get; init; }

    /// <summary>The honest generator configurations of the matrix: llama.cpp with 1 and 2 threads and n_ubatch 512, 16 and 7, and the managed engine.</summary>
    public static IReadOnlyList<ProofMatrixGenerator> All { get; } =
    [
        Standard,
        new("llama t1 ub16", false, 1, 16),
        new("llama t2 ub7", false, 2, 7),
        new("managed", true, 0, 1),
    ];
}

/// <summary>Shape of the synthesized models of a matrix run.</summary>
/// <param name="Dimension">n_embd of the claimed and other models (a multiple of 256 for Q4_K_M).</param>
/// <param name="Layers">Blocks.</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="KvHeads">Key/value heads.</param>
/// <param name="FeedForward">Feed-forward width (a multiple of 256 for Q4_K_M).</param>
/// <param name="Vocabulary">Vocabulary size (shared by every model of a set).</param>
public sealed record ProofMatrixShape(int Dimension = 256, int Layers = 2, int Heads = 4, int KvHeads = 2, int FeedForward = 512, int Vocabulary = 512);

/// <summary>What one matrix run (one model set, one generator configuration, one CPU variant) measured.</summary>
/// <param name="Models">The model set.</param>
/// <param name="Generator">The honest generator configuration.</param>
/// <param name="CpuVariant">The llama.cpp CPU variant loaded in this process (generator and verifier).</param>
/// <param name="Report">Counts and statistics.</param>
public sealed record ProofMatrixRun(ProofMatrixModelSet Models, ProofMatrixGenerator Generator, string CpuVariant, ProofMatrixReport Report);

/// <summary>
/// The detection matrix on real engines: synthesizes (or takes) the model files, loads llama.cpp
/// engines for the claimed model (the verifier, and the honest node unless the managed engine
/// generates), another model, a cheaper quantisation and a small cheap model, and runs
/// <see cref="ProofMatrix"/> with a <see cref="ReexecutionVerifier"/> whose thresholds are the
/// calibrated ones for the claimed model's weight type (<see cref="VerifierCalibration.CalibratedThresholds"/>).
/// </summary>
public static class RealProofMatrix
{
    private static readonly string[] Prompts =
    [
        "Once upon a time", "Lily had a red ball.", "Tom and his dog went to the park", "the sun was big and happy",
        "She saw a little bird in the tree", "One day, a boy named Tom", "The cat and the fish", "They played with the toy all day",
        "Mom said to Lily", "There was a big house", "x", "The little girl wanted to help her friend",
    ];

    /// <summary>
    /// A shape with a 32,000-token vocabulary (dim 512, 8 layers, 8 heads, 2 KV heads, ff 1024): seeded
    /// weights over a large vocabulary give nearly flat logits, and depth makes the prefill differ from
    /// decoding enough to move the seeded draw: the hardest case for the sampling check (set <c>flat</c>).
    /// </summary>
    public static ProofMatrixShape FlatShape { get; } = new(Dimension: 512, Layers: 8, Heads: 8, KvHeads: 2, FeedForward: 1024, Vocabulary: 32000);

    /// <summary>
    /// The verifier options of the matrix for a claimed model's weight type:
    /// <see cref="VerifierCalibration.CalibratedOptions"/> with <see cref="MatrixEngineCompatibility"/>.
    /// </summary>
    public static ReexecutionVerifierOptions CalibratedOptions(SynthesisType weightType) =>
        VerifierCalibration.CalibratedOptions(weightType) with { EngineCompatibility = MatrixEngineCompatibility };

    /// <summary>
    /// The engine compatibility rule of the matrix: the default rule, plus receipts of the managed
    /// reference engine with the verifier's KV-cache type and flash attention off (its numbers are
    /// within the calibrated thresholds of llama.cpp's, docs/proofs.md).
    /// </summary>
    public static bool MatrixEngineCompatibility(EngineIdentity claimed, EngineIdentity verifier)
    {
        ArgumentNullException.ThrowIfNull(claimed);
        ArgumentNullException.ThrowIfNull(verifier);
        return ReexecutionVerifierOptions.DefaultEngineCompatibility(claimed, verifier)
            || (claimed.Engine == "managed" && !verifier.FlashAttention && claimed.KvCacheType == verifier.KvCacheType);
    }

    /// <summary>
    /// Writes a model set of <paramref name="weightType"/> into <paramref name="directory"/> (skipping
    /// files already there): claimed = seed <paramref name="seed"/>; other = seed + 1000, same shape and
    /// type; cheaper = the same weights as Q4_K_M (F16 and Q8_0 claims) or Q8_0 (F32 claims), none for
    /// Q4_K_M; cheap small = a 64-wide F32 model with the same vocabulary.
    /// </summary>
    /// <exception cref="ArgumentException">The shape does not fit the weight type.</exception>
    public static ProofMatrixModelSet SynthesizeModelSet(string directory, SynthesisType weightType, ProofMatrixShape shape, ulong seed = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(shape);
        Directory.CreateDirectory(directory);
        var options = new SynthesisOptions
        {
            Dimension = shape.Dimension, Layers = shape.Layers, Heads = shape.Heads, KvHeads = shape.KvHeads, FeedForward = shape.FeedForward,
            Vocabulary = shape.Vocabulary, ContextLength = 512, Type = weightType, Seed = seed,
        };
        string tag = $"d{shape.Dimension}l{shape.Layers}h{shape.Heads}k{shape.KvHeads}f{shape.FeedForward}v{shape.Vocabulary}";
        string claimed = Make(directory, $"{tag}-s{seed}-{weightType}", options);
        string other = Make(directory, $"{tag}-s{seed + 1000}-{weightType}", options with { Seed = seed + 1000 });
        SynthesisType? cheaperType = weightType switch
        {
            SynthesisType.F16 or SynthesisType.Q8_0 => SynthesisType.Q4_K_M,
            SynthesisType.F32 => SynthesisType.Q8_0,
            _ => null,
        };
        string? cheaper = cheaperType is { } t ? Make(directory, $"{tag}-s{seed}-{t}", options with { Type = t }) : null;
        string? adjacent = weightType == SynthesisType.F16 ? Make(directory, $"{tag}-s{seed}-{SynthesisType.Q8_0}", options with { Type = SynthesisType.Q8_0 }) : null;
        string small = Make(directory, $"small-d64v{shape.Vocabulary}-s{seed + 2000}", new SynthesisOptions
        {
            Dimension = 64, Layers = 1, Heads = 4, KvHeads = 2, FeedForward = 128, Vocabulary = shape.Vocabulary, ContextLength = 512, Seed = seed + 2000,
        });
        return new ProofMatrixModelSet("synth-" + weightType.ToString().ToLowerInvariant(), weightType, claimed, other, cheaper, small, adjacent);
    }

    /// <summary>
    /// The stories260K set (F32): other = a synthesized model of its shape (dim 64, 5 layers, 8 heads,
    /// 4 KV heads, ff 172, vocabulary 512); no cheaper quantisation (its F16 copy, made
    /// here by llama.cpp's quantiser for the spot check in docs/proofs.md, is not separable from honest F32);
    /// cheap small = a 32-wide synthesized model. Generation ends at EOS or the token limit only (the
    /// managed engine has no extra end tokens, so BOS is not made one).
    /// </summary>
    public static ProofMatrixModelSet Stories260KSet(string storiesPath, string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(storiesPath);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        string other = Make(directory, "stories-shape-s77-F32", new SynthesisOptions { Dimension = 64, Layers = 5, Heads = 8, KvHeads = 4, FeedForward = 172, Vocabulary = 512, ContextLength = 512, Seed = 77 });
        string small = Make(directory, "small-d32v512-s78", new SynthesisOptions { Dimension = 32, Layers = 1, Heads = 2, FeedForward = 64, Vocabulary = 512, ContextLength = 512, Seed = 78 });
        string f16 = Path.Combine(directory, "stories260K-F16.gguf");
        if (!File.Exists(f16))
        {
            GgufQuantizer.Quantize(storiesPath, f16 + ".tmp", GgufQuantization.F16);
            File.Move(f16 + ".tmp", f16, overwrite: true);
        }

        _ = f16; // kept for the F32-as-F16 spot check (docs/proofs.md): not separable, so not in the matrix
        return new ProofMatrixModelSet("stories260K", SynthesisType.F32, storiesPath, other, null, small, OtherKvCache: null); // head dimension 8: no Q8_0 cache, and F32 costs more than the standard F16
    }

    /// <summary>
    /// <paramref name="count"/> deterministic cases starting at <paramref name="first"/>: prompts from a
    /// fixed list; greedy and seeded sampling at several temperatures, top-k/top-p/min-p cut-offs, a
    /// repetition penalty and a stop sequence; 8 to <paramref name="maxTokens"/> output tokens.
    /// </summary>
    public static IReadOnlyList<ProofMatrixCase> Cases(int count, int first = 0, int maxTokens = 48)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 8);
        var cases = new ProofMatrixCase[count];
        for (int n = 0; n < count; n++)
        {
            int i = first + n;
            ulong seed = (ulong)(1000 + (i * 7919));
            var sampling = (i % 6) switch
            {
                0 => SamplingParameters.Greedy,
                1 => new SamplingParameters { Temperature = 0.8f, TopK = 40, TopP = 0.95f, MinP = 0.05f },
                2 => new SamplingParameters { Temperature = 1.0f, TopK = 0, TopP = 0.9f, MinP = 0f },
                3 => new SamplingParameters { Temperature = 0.6f, TopK = 20, TopP = 1f, MinP = 0.1f, RepetitionPenalty = 1.2f },
                4 => new SamplingParameters { Temperature = 1.3f, TopK = 100, TopP = 0.98f, MinP = 0.02f },
                _ => new SamplingParameters { Temperature = 0.9f, StopSequences = ["e."] },
            };
            int tokens = 8 + (int)(((ulong)i * 2654435761UL) % (ulong)(maxTokens - 7));
            cases[n] = new ProofMatrixCase(Prompts[i % Prompts.Length], sampling, seed, tokens);
        }

        return cases;
    }

    /// <summary>
    /// Runs the matrix for one model set and generator configuration in this process's CPU variant:
    /// honest receipts for every case, and the <paramref name="attacks"/> on each; the verifier replays
    /// decoding under <paramref name="replay"/> (default the validators' policy; the others measure what
    /// the replay changes).
    /// </summary>
    /// <exception cref="Core.Errors.EngineException">An engine failed to load.</exception>
    public static async Task<ProofMatrixRun> RunAsync(
        ProofMatrixModelSet models,
        ProofMatrixGenerator generator,
        IReadOnlyList<ProofMatrixCase> cases,
        IReadOnlyCollection<ProofAttack> attacks,
        LlamaCpuVariant cpuVariant,
        TimeProvider timeProvider,
        DecodingReplayPolicy replay = DecodingReplayPolicy.WhenDisputed,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(attacks);
        var engines = new List<IAsyncDisposable>();
        try
        {
            async Task<LlamaInferenceEngine> LoadLlama(string path, int threads, int ubatch, KvCacheType kv = KvCacheType.F16, bool exact = false)
            {
                var engine = await LlamaInferenceEngine.LoadAsync(
                    new LlamaEngineOptions
                    {
                        ModelPath = path, Threads = threads, MicroBatchSize = ubatch, ContextSize = 256, MaxPromptTokens = 128, MaxOutputTokens = 128,
                        MaxConcurrentSequences = 1, CpuVariant = cpuVariant, KvCacheType = kv, FlashAttention = exact || kv == KvCacheType.Q80, WeightRepacking = !exact,
                    },
                    cancellationToken).ConfigureAwait(false);
                engines.Add(engine);
                return engine;
            }

            bool exact = generator.ExactPrefill && !generator.Managed;
            var verifierEngine = exact
                ? await LoadLlama(models.ClaimedModel, ProofMatrixGenerator.Standard.Threads, generator.MicroBatchSize, exact: true).ConfigureAwait(false)
                : await LoadLlama(models.ClaimedModel, ProofMatrixGenerator.Standard.Threads, ProofMatrixGenerator.Standard.MicroBatchSize).ConfigureAwait(false);
            IInferenceEngine honest;
            if (generator.Managed)
            {
                var managed = await ManagedLlamaEngine.LoadAsync(models.ClaimedModel, new ManagedLlamaEngineOptions { ContextLength = 256, MaxDegreeOfParallelism = 1 }, cancellationToken).ConfigureAwait(false);
                engines.Add(managed);
                honest = managed;
            }
            else
            {
                honest = await LoadLlama(models.ClaimedModel, generator.Threads, generator.MicroBatchSize, exact: exact).ConfigureAwait(false);
            }

            bool Wants(ProofAttack attack) => attacks.Contains(attack);
            IInferenceEngine? other = Wants(ProofAttack.OtherModel) && models.OtherModel is { } o ? await LoadLlama(o, 2, 512).ConfigureAwait(false) : null;
            IInferenceEngine? cheaper = Wants(ProofAttack.CheaperQuantisation) && models.CheaperQuantisation is { } q ? await LoadLlama(q, 2, 512).ConfigureAwait(false) : null;
            IInferenceEngine? small = Wants(ProofAttack.CheapModelDecode) && models.CheapSmallModel is { } s ? await LoadLlama(s, 2, 512).ConfigureAwait(false) : null;
            IInferenceEngine? adjacent = Wants(ProofAttack.AdjacentQuantisation) && models.AdjacentQuantisation is { } a ? await LoadLlama(a, 2, 512).ConfigureAwait(false) : null;
            IInferenceEngine? otherKv = Wants(ProofAttack.KvCacheChanged) && !generator.Managed && models.OtherKvCache is { } kv
                ? await LoadLlama(models.ClaimedModel, generator.Threads, generator.MicroBatchSize, kv, exact).ConfigureAwait(false)
                : null;
            var verifier = new ReexecutionVerifier(verifierEngine, CalibratedOptions(models.WeightType) with { DecodingReplay = replay });
            var matrix = new ProofMatrix(verifier, new ProofMatrixEngines(honest, other, cheaper, small, adjacent, otherKv), timeProvider);
            var report = await matrix.RunAsync(cases, attacks, cancellationToken).ConfigureAwait(false);
            return new ProofMatrixRun(models, generator, verifierEngine.Identity.CpuVariant, report);
        }
        finally
        {
            foreach (var engine in engines)
            {
                await engine.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static string Make(string directory, string name, SynthesisOptions options)
    {
        string path = Path.Combine(directory, name + ".gguf");
        if (!File.Exists(path))
        {
            LlamaModelSynthesizer.Write(options, path + ".tmp");
            File.Move(path + ".tmp", path, overwrite: true);
        }

        return path;
    }
}

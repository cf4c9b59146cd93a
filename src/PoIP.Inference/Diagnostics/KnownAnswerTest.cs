using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Protocol;
using PoIP.Inference.Llama;

namespace PoIP.Inference.Diagnostics;

/// <summary>The outcome of one known-answer case.</summary>
/// <param name="Name">Case name.</param>
/// <param name="Passed">Whether every check of the case passed.</param>
/// <param name="ExactActivations">True when the activation digest was compared bit for bit (a vector exists for this engine identity).</param>
/// <param name="Detail">What was checked, or what differed.</param>
public sealed record KnownAnswerCaseResult(string Name, bool Passed, bool ExactActivations, string Detail);

/// <summary>The outcome of the known-answer test.</summary>
/// <param name="Passed">True when every case passed; a node must not serve otherwise.</param>
/// <param name="Cases">Per-case outcomes.</param>
public sealed record KnownAnswerResult(bool Passed, IReadOnlyList<KnownAnswerCaseResult> Cases)
{
    /// <summary>One line: passed/failed and how many cases were exact.</summary>
    public string Summary =>
        $"{(Passed ? "passed" : "FAILED")}: {Cases.Count(c => c.Passed)}/{Cases.Count} cases, {Cases.Count(c => c.ExactActivations)} with bit-exact activation digests";
}

/// <summary>
/// The known-answer test of a node: stories260K, fixed prompts, sampling and seeds; expected token ids,
/// per-position hidden-state norms and SHA-256 digests of the raw activations, stored in
/// <c>Diagnostics/known-answers.json</c> (how they were produced is written in the file and in docs/engine-standard.md).
/// </summary>
public static class KnownAnswerTest
{
    /// <summary>Relative tolerance on hidden-state norms when no exact digest exists for the engine identity.</summary>
    public const double NormTolerance = 1e-3;

    /// <summary>Largest relative L2 distance allowed between teacher-forced and decoded hidden states.</summary>
    public const double TeacherForcingTolerance = 1e-2;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly Lazy<KnownAnswerVectors> EmbeddedVectors = new(LoadEmbedded);

    /// <summary>SHA-256 of the model the vectors were made on (stories260K).</summary>
    public static string ModelSha256 => EmbeddedVectors.Value.ModelSha256;

    /// <summary>The cases as network challenges (prompt, sampling, seed and expected tokens), for probing remote nodes.</summary>
    public static IReadOnlyList<KnownAnswerChallenge> Challenges => [.. EmbeddedVectors.Value.Cases.Select(c => new KnownAnswerChallenge(c.Name, c.Prompt, c.Sampling.ToParameters(), c.Seed, c.MaxTokens, c.Tokens))];

    /// <summary>
    /// Challenges for the model <paramref name="engine"/> serves, whatever it is: fixed prompts (greedy, and seeded
    /// sampling), their expected tokens produced by running <paramref name="engine"/> itself. They bind a node that
    /// claims the same engine identity (<see cref="KnownAnswerChallenge.Engine"/>; same identity, same tokens, bit for
    /// bit); the challenger checks the answers' activations by re-executing them (a validator's verifier).
    /// </summary>
    /// <param name="engine">The challenger's engine, serving the model to challenge.</param>
    /// <param name="maxTokens">Tokens per challenge (1 to 128; default 24: short enough for any node's limit).</param>
    /// <param name="cancellationToken">Cancels the generation.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxTokens"/> is out of range.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static async Task<IReadOnlyList<KnownAnswerChallenge>> DeriveChallengesAsync(IInferenceEngine engine, int maxTokens = 24, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxTokens, 128);
        (string Name, string Prompt, SamplingParameters Sampling, ulong Seed)[] cases =
        [
            ("derived-greedy", "Once upon a time", new SamplingParameters { Temperature = 0, TopK = 0, TopP = 1, MinP = 0 }, 1),
            ("derived-sampled", "The little bird said", new SamplingParameters { Temperature = 0.8f, TopK = 40, TopP = 0.95f, MinP = 0.05f }, 9_173),
        ];
        var challenges = new List<KnownAnswerChallenge>(cases.Length);
        foreach (var (name, prompt, sampling, seed) in cases)
        {
            var tokens = new List<int>();
            await foreach (var token in engine.GenerateAsync(new GenerationRequest(engine.Tokenize(prompt, addBeginOfSequence: true), sampling, seed, maxTokens), null, cancellationToken).ConfigureAwait(false))
            {
                tokens.Add(token.TokenId);
            }

            challenges.Add(new KnownAnswerChallenge(name, prompt, sampling, seed, maxTokens, tokens) { Model = engine.Model.Id, Engine = engine.Identity });
        }

        return challenges;
    }

    /// <summary>Whether two engine identities produce the same decode-time tokens and activations (all but the micro-batch equal).</summary>
    public static bool SameIdentity(EngineIdentity a, EngineIdentity b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return IdentityKey(a) == IdentityKey(b);
    }

    /// <summary>Engine options that reproduce the vectors' settings for a model path.</summary>
    public static LlamaEngineOptions EngineOptions(string stories260KPath, int threads = 1) => new()
    {
        ModelPath = stories260KPath,
        Threads = threads,
        ContextSize = EmbeddedVectors.Value.ContextSize,
        MicroBatchSize = EmbeddedVectors.Value.Ubatch,
        MaxPromptTokens = 64,
        MaxOutputTokens = 128,
        MaxConcurrentSequences = 1,
        ExpectedModelSha256 = EmbeddedVectors.Value.ModelSha256,
    };

    /// <summary>Runs every case on <paramref name="engine"/> (which must serve stories260K).</summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static async Task<KnownAnswerResult> RunAsync(IInferenceEngine engine, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var vectors = EmbeddedVectors.Value;
        if (!string.Equals(engine.Model.Id.ToString(), vectors.ModelSha256, StringComparison.OrdinalIgnoreCase))
        {
            return new KnownAnswerResult(false, [new KnownAnswerCaseResult("model", false, false, $"the engine serves model {engine.Model.Id}; the known-answer test needs stories260K ({vectors.ModelSha256}).")]);
        }

        string identity = IdentityKey(engine.Identity);
        var results = new List<KnownAnswerCaseResult>();
        foreach (var vector in vectors.Cases)
        {
            results.Add(await RunCaseAsync(engine, vector, identity, cancellationToken).ConfigureAwait(false));
        }

        return new KnownAnswerResult(results.All(r => r.Passed), results);
    }

    /// <summary>Runs the test and throws when it fails: a node calls this before serving.</summary>
    /// <exception cref="EngineException"><see cref="EngineErrorCodes.KnownAnswerFailed"/> (fatal).</exception>
    public static async Task<KnownAnswerResult> EnsurePassedAsync(IInferenceEngine engine, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(engine, cancellationToken).ConfigureAwait(false);
        if (!result.Passed)
        {
            string failures = string.Join("; ", result.Cases.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}"));
            throw new EngineException(EngineErrorCodes.KnownAnswerFailed, $"known-answer test failed on {engine.Identity}: {failures}", isFatal: true);
        }

        return result;
    }

    /// <summary>
    /// Recomputes the vectors on <paramref name="engine"/>: token ids and norms from this run, the digest of this
    /// engine identity added to the digests already known. Used to (re)generate the JSON file.
    /// </summary>
    internal static async Task<string> ProduceJsonAsync(IInferenceEngine engine, CancellationToken cancellationToken = default)
    {
        var vectors = EmbeddedVectors.Value;
        string identity = IdentityKey(engine.Identity);
        var cases = new List<KnownAnswerVector>();
        foreach (var vector in vectors.Cases)
        {
            var prompt = engine.Tokenize(vector.Prompt, addBeginOfSequence: true);
            var capture = new CaptureObserver();
            var tokens = new List<int>();
            await foreach (var token in engine.GenerateAsync(new GenerationRequest(prompt, vector.Sampling.ToParameters(), vector.Seed, vector.MaxTokens), capture, cancellationToken).ConfigureAwait(false))
            {
                tokens.Add(token.TokenId);
            }

            var digests = new SortedDictionary<string, string>(vector.Digests ?? new Dictionary<string, string>(), StringComparer.Ordinal)
            {
                [identity] = capture.Digest(),
            };
            cases.Add(vector with { PromptTokens = [.. prompt], Tokens = tokens, HiddenNorms = capture.Norms.Select(n => Math.Round(n, 6)).ToList(), Digests = digests });
        }

        return JsonSerializer.Serialize(vectors with { ModelSha256 = engine.Model.Id.ToString(), Cases = cases }, JsonOptions);
    }

    internal static KnownAnswerVectors Parse(string json) =>
        JsonSerializer.Deserialize<KnownAnswerVectors>(json, JsonOptions) ?? throw new InvalidDataException("empty known-answer vectors.");

    /// <summary>Engine identity without the micro-batch (decode-time activations do not depend on it).</summary>
    private static string IdentityKey(EngineIdentity identity) =>
        $"{identity.Engine}@{identity.Build}/{identity.Backend}-{identity.CpuVariant}/fa={(identity.FlashAttention ? "on" : "off")}/kv={identity.KvCacheType}";

    private static async Task<KnownAnswerCaseResult> RunCaseAsync(IInferenceEngine engine, KnownAnswerVector vector, string identity, CancellationToken cancellationToken)
    {
        var prompt = engine.Tokenize(vector.Prompt, addBeginOfSequence: true);
        if (!prompt.SequenceEqual(vector.PromptTokens))
        {
            return new KnownAnswerCaseResult(vector.Name, false, false, $"tokenizer: prompt gave [{string.Join(',', prompt)}], expected [{string.Join(',', vector.PromptTokens)}].");
        }

        var capture = new CaptureObserver();
        var tokens = new List<int>();
        var stop = StopReason.None;
        await foreach (var token in engine.GenerateAsync(new GenerationRequest(prompt, vector.Sampling.ToParameters(), vector.Seed, vector.MaxTokens), capture, cancellationToken).ConfigureAwait(false))
        {
            tokens.Add(token.TokenId);
            stop = token.Stop;
        }

        if (!tokens.SequenceEqual(vector.Tokens))
        {
            int at = tokens.Zip(vector.Tokens).TakeWhile(p => p.First == p.Second).Count();
            return new KnownAnswerCaseResult(vector.Name, false, false, $"tokens differ from position {at} ({tokens.Count} generated, {vector.Tokens.Count} expected).");
        }

        bool exact = false;
        if (vector.Digests is not null && vector.Digests.TryGetValue(identity, out string? expectedDigest))
        {
            exact = true;
            string digest = capture.Digest();
            if (digest != expectedDigest)
            {
                return new KnownAnswerCaseResult(vector.Name, false, true, $"activation digest {digest[..16]}… differs from {expectedDigest[..16]}… for {identity}.");
            }
        }
        else
        {
            for (int i = 0; i < vector.HiddenNorms.Count; i++)
            {
                double expected = vector.HiddenNorms[i];
                if (Math.Abs(capture.Norms[i] - expected) > NormTolerance * Math.Max(expected, 1e-6))
                {
                    return new KnownAnswerCaseResult(vector.Name, false, false, $"hidden-state norm at position {i} is {capture.Norms[i]:G6}, expected {expected:G6} (±{NormTolerance:P1}).");
                }
            }
        }

        // The validator's path: one teacher-forced prefill must agree with what decoding produced.
        var forced = new CaptureObserver { Reference = capture };
        await engine.TeacherForceAsync(prompt, tokens, forced, cancellationToken).ConfigureAwait(false);
        if (forced.MaxRelativeL2 > TeacherForcingTolerance)
        {
            return new KnownAnswerCaseResult(vector.Name, false, exact, $"teacher-forced hidden states differ from decoding by {forced.MaxRelativeL2:E2} (limit {TeacherForcingTolerance:E0}).");
        }

        return new KnownAnswerCaseResult(vector.Name, true, exact, $"{tokens.Count} tokens (stop {stop}), {(exact ? "digest exact" : $"norms within {NormTolerance:E0}")}, teacher forcing within {forced.MaxRelativeL2:E1}");
    }

    private static KnownAnswerVectors LoadEmbedded()
    {
        using var stream = typeof(KnownAnswerTest).Assembly.GetManifestResourceStream("PoIP.Inference.Diagnostics.known-answers.json")
            ?? throw new InvalidOperationException("known-answer vectors are not embedded in PoIP.Inference.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    }

    /// <summary>Hashes raw activations (hidden state then logits, little-endian float32, position by position) and keeps norms.</summary>
    private sealed class CaptureObserver : IActivationObserver
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly List<float[]> _hidden = [];

        public CaptureObserver? Reference { get; init; }

        public List<double> Norms { get; } = [];

        public double MaxRelativeL2 { get; private set; }

        public void OnPrefill(int promptTokenCount, ReadOnlySpan<float> lastHiddenState)
        {
        }

        public void OnToken(int index, int tokenId, ReadOnlySpan<float> hiddenState, ReadOnlySpan<float> logits)
        {
            _hash.AppendData(MemoryMarshal.AsBytes(hiddenState));
            _hash.AppendData(MemoryMarshal.AsBytes(logits));
            double norm = 0;
            foreach (float v in hiddenState)
            {
                norm += v * (double)v;
            }

            Norms.Add(Math.Sqrt(norm));
            _hidden.Add(hiddenState.ToArray());
            if (Reference is not null && index < Reference._hidden.Count)
            {
                float[] reference = Reference._hidden[index];
                double diff = 0, size = 0;
                for (int i = 0; i < reference.Length; i++)
                {
                    double d = reference[i] - (double)hiddenState[i];
                    diff += d * d;
                    size += reference[i] * (double)reference[i];
                }

                MaxRelativeL2 = Math.Max(MaxRelativeL2, Math.Sqrt(diff / Math.Max(size, 1e-30)));
            }
        }

        public string Digest() => Convert.ToHexStringLower(_hash.GetCurrentHash());
    }
}

internal sealed record KnownAnswerVectors
{
    public string Description { get; init; } = string.Empty;

    public string ModelSha256 { get; init; } = string.Empty;

    public int ContextSize { get; init; } = 256;

    public int Ubatch { get; init; } = 64;

    public List<KnownAnswerVector> Cases { get; init; } = [];
}

internal sealed record KnownAnswerVector
{
    public string Name { get; init; } = string.Empty;

    public string Prompt { get; init; } = string.Empty;

    public ulong Seed { get; init; }

    public int MaxTokens { get; init; }

    public KnownAnswerSampling Sampling { get; init; } = new();

    public List<int> PromptTokens { get; init; } = [];

    public List<int> Tokens { get; init; } = [];

    public List<double> HiddenNorms { get; init; } = [];

    public IDictionary<string, string>? Digests { get; init; }
}

internal sealed record KnownAnswerSampling
{
    public float Temperature { get; init; }

    public int TopK { get; init; }

    public float TopP { get; init; } = 1f;

    public float MinP { get; init; }

    public float RepetitionPenalty { get; init; } = 1f;

    public int RepetitionWindow { get; init; } = 64;

    public List<string> Stop { get; init; } = [];

    public SamplingParameters ToParameters() => new()
    {
        Temperature = Temperature,
        TopK = TopK,
        TopP = TopP,
        MinP = MinP,
        RepetitionPenalty = RepetitionPenalty,
        RepetitionWindow = RepetitionWindow,
        StopSequences = Stop,
    };
}

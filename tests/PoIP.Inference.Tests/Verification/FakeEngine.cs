using System.Runtime.CompilerServices;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Protocol;

namespace PoIP.Inference.Tests.Verification;

/// <summary>
/// The weights of a tiny seeded recurrent "model": s_t = tanh(A s_{t-1} + E[x_t]), hidden state
/// h_t = γ ⊙ s_t / rms(s_t) (the "final norm"), logits = W h_t. Deterministic in the token prefix.
/// </summary>
internal sealed class FakeModel
{
    public const int Vocabulary = 68;
    public const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n.,";

    private FakeModel(string name, int hidden, float[] e, float[] a, float[] w, float[] gamma)
    {
        Name = name;
        Hidden = hidden;
        E = e;
        A = a;
        W = w;
        Gamma = gamma;
    }

    public string Name { get; }

    public int Hidden { get; }

    public float[] E { get; }

    public float[] A { get; }

    public float[] W { get; }

    public float[] Gamma { get; }

    public static FakeModel Create(string name, int seed, int hidden)
    {
        var r = new Random(seed);
        float G(double scale) => (float)(Commitments.SyntheticActivations.Gaussian(r) * scale);
        var e = Enumerable.Range(0, Vocabulary * hidden).Select(_ => G(0.5)).ToArray();
        var a = Enumerable.Range(0, hidden * hidden).Select(_ => G(0.97 / Math.Sqrt(hidden))).ToArray();
        var w = Enumerable.Range(0, Vocabulary * hidden).Select(_ => G(3.0 / Math.Sqrt(hidden))).ToArray();
        var gamma = Enumerable.Range(0, hidden).Select(i => i % 11 == 5 ? 4f : 1f + G(0.1)).ToArray();
        return new FakeModel(name, hidden, e, a, w, gamma);
    }

    /// <summary>The same model with every weight multiplied by (1 + relative·N(0,1)): a "quantisation".</summary>
    public FakeModel Perturbed(string name, double relative, int seed)
    {
        var r = new Random(seed);
        float[] P(float[] x) => x.Select(v => (float)(v * (1 + (relative * Commitments.SyntheticActivations.Gaussian(r))))).ToArray();
        return new FakeModel(name, Hidden, P(E), P(A), P(W), P(Gamma));
    }
}

/// <summary>
/// A deterministic fake <see cref="IInferenceEngine"/> over a <see cref="FakeModel"/>. Decoding adds a
/// seeded relative perturbation of <c>decodeNoise</c> to each hidden state (what real engines show
/// between token-by-token decoding and one teacher-forced prefill); teacher forcing adds none; a
/// decoding replay (when <c>canReplay</c>) adds exactly decoding's.
/// </summary>
internal sealed class FakeEngine : IInferenceEngine, IDecodingReplay
{
    private readonly FakeModel _model;
    private readonly double _decodeNoise;

    private readonly bool _canReplay;
    private readonly int _maxReplayMicroBatch;

    public FakeEngine(FakeModel model, double decodeNoise = 5e-4, EngineIdentity? identity = null, int contextLength = 512, bool canReplay = true, int maxReplayMicroBatch = 512)
    {
        _model = model;
        _canReplay = canReplay;
        _maxReplayMicroBatch = maxReplayMicroBatch;
        _decodeNoise = decodeNoise;
        Identity = identity ?? new EngineIdentity("fake", "1", "cpu", "", false, "f32", 512);
        Model = new ModelDescriptor(new ModelId(Sha256Digest.Compute(System.Text.Encoding.UTF8.GetBytes(model.Name))), "fake", FakeModel.Vocabulary, model.Hidden, 1, contextLength, 0, 1);
    }

    public EngineIdentity Identity { get; }

    public ModelDescriptor Model { get; }

    public int TeacherForceCalls { get; private set; }

    public int ReplayCalls { get; private set; }

    public int MaxReplayMicroBatch => _canReplay ? _maxReplayMicroBatch : 0;

    public IReadOnlyList<int> Tokenize(string text, bool addBeginOfSequence)
    {
        var tokens = new List<int>();
        if (addBeginOfSequence)
        {
            tokens.Add(0);
        }

        foreach (char ch in text)
        {
            int i = FakeModel.Alphabet.IndexOf(ch, StringComparison.Ordinal);
            tokens.Add(2 + (i < 0 ? FakeModel.Alphabet.IndexOf(' ', StringComparison.Ordinal) : i));
        }

        return tokens;
    }

    public string Detokenize(IReadOnlyList<int> tokens) =>
        string.Concat(tokens.Where(t => t >= 2 && t < FakeModel.Vocabulary).Select(t => FakeModel.Alphabet[t - 2]));

    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, IActivationObserver? observer = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        var sampler = new TestSampler();
        var state = new float[_model.Hidden];
        var hidden = new float[_model.Hidden];
        var logits = new float[FakeModel.Vocabulary];
        var history = new List<int>(request.PromptTokens);
        foreach (int t in request.PromptTokens)
        {
            Step(state, t);
        }

        Norm(state, hidden);
        observer?.OnPrefill(request.PromptTokens.Count, hidden);
        var output = new List<int>();
        for (int i = 0; i < request.MaxTokens; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Norm(state, hidden);
            Noise(hidden, request.PromptTokens.Count + i);
            Logits(hidden, logits);
            int token = sampler.Sample(logits, request.Sampling, request.Seed, i, history.ToArray());
            observer?.OnToken(i, token, hidden, logits);
            output.Add(token);
            history.Add(token);
            var stop = token == Model.EndOfSequenceToken ? StopReason.EndOfSequence
                : request.Sampling.StopSequences.Any(s => Detokenize(output).Contains(s, StringComparison.Ordinal)) ? StopReason.StopSequence
                : i == request.MaxTokens - 1 ? StopReason.MaxTokens
                : request.PromptTokens.Count + i + 1 >= Model.TrainedContextLength ? StopReason.ContextFull
                : StopReason.None;
            yield return new GeneratedToken(i, token, Detokenize([token]), stop);
            if (stop != StopReason.None)
            {
                yield break;
            }

            Step(state, token);
        }
    }

    public Task TeacherForceAsync(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, IActivationObserver observer, CancellationToken cancellationToken = default)
    {
        TeacherForceCalls++;
        if (promptTokens.Count + outputTokens.Count > Model.TrainedContextLength + 1)
        {
            throw new EngineException("engine.context_overflow", "too long");
        }

        Force(promptTokens, outputTokens, observer, decodeNoise: false, cancellationToken);
        return Task.CompletedTask;
    }

    public Task ReplayDecodingAsync(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, int promptMicroBatch, IActivationObserver observer, CancellationToken cancellationToken = default)
    {
        if (!_canReplay || promptMicroBatch < 1 || promptMicroBatch > MaxReplayMicroBatch)
        {
            throw new EngineException("engine.invalid_options", "cannot replay");
        }

        ReplayCalls++;
        Force(promptTokens, outputTokens, observer, decodeNoise: true, cancellationToken);
        return Task.CompletedTask;
    }

    /// <summary>Runs the claimed tokens through the model, reporting every position; with decoding's noise when <paramref name="decodeNoise"/>.</summary>
    private void Force(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, IActivationObserver observer, bool decodeNoise, CancellationToken cancellationToken)
    {
        var state = new float[_model.Hidden];
        var hidden = new float[_model.Hidden];
        var logits = new float[FakeModel.Vocabulary];
        foreach (int t in promptTokens)
        {
            Step(state, t);
        }

        Norm(state, hidden);
        observer.OnPrefill(promptTokens.Count, hidden);
        for (int i = 0; i < outputTokens.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Norm(state, hidden);
            if (decodeNoise)
            {
                Noise(hidden, promptTokens.Count + i);
            }

            Logits(hidden, logits);
            observer.OnToken(i, outputTokens[i], hidden, logits);
            Step(state, outputTokens[i]);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private void Step(float[] state, int token)
    {
        int h = _model.Hidden;
        var next = new float[h];
        for (int i = 0; i < h; i++)
        {
            double acc = _model.E[(token * h) + i];
            for (int j = 0; j < h; j++)
            {
                acc += _model.A[(i * h) + j] * state[j];
            }

            next[i] = (float)Math.Tanh(acc);
        }

        next.CopyTo(state, 0);
    }

    private void Norm(float[] state, float[] hidden)
    {
        double ss = state.Sum(v => (double)v * v);
        double rms = Math.Sqrt((ss / state.Length) + 1e-6);
        for (int i = 0; i < state.Length; i++)
        {
            hidden[i] = (float)(_model.Gamma[i] * state[i] / rms);
        }
    }

    private void Noise(float[] hidden, int position)
    {
        if (_decodeNoise == 0)
        {
            return;
        }

        var r = new Random((position * 7919) + 77);
        for (int i = 0; i < hidden.Length; i++)
        {
            hidden[i] = (float)(hidden[i] * (1 + (_decodeNoise * Commitments.SyntheticActivations.Gaussian(r))));
        }
    }

    private void Logits(float[] hidden, float[] logits)
    {
        int h = _model.Hidden;
        for (int v = 0; v < logits.Length; v++)
        {
            double acc = 0;
            for (int i = 0; i < h; i++)
            {
                acc += _model.W[(v * h) + i] * hidden[i];
            }

            logits[v] = (float)acc;
        }
    }
}

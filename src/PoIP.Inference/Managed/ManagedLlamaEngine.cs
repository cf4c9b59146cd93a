using System.Runtime.CompilerServices;
using System.Text;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Inference.Gguf;
using PoIP.Inference.Sampling;

namespace PoIP.Inference.Managed;

/// <summary>
/// A second, independent engine under the Inference Engine Standard: a plain C# forward pass of the
/// llama architecture (F32/F16/BF16/Q8_0 GGUF, dequantised to floats) that shares no code with
/// llama.cpp. Slow but exact enough to serve stories260K and small models, and to referee llama.cpp.
/// One generation runs at a time; concurrent calls queue.
/// </summary>
public sealed class ManagedLlamaEngine : IInferenceEngine, IDecodingReplay
{
    private readonly LlamaWeights _weights;
    private readonly SpmTokenizer _tokenizer;
    private readonly ManagedLlamaEngineOptions _options;
    private readonly int _contextLength;
    private readonly ParallelOptions _parallel;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _disposed;

    private ManagedLlamaEngine(LlamaWeights weights, SpmTokenizer tokenizer, ManagedLlamaEngineOptions options, ModelDescriptor model)
    {
        _weights = weights;
        _tokenizer = tokenizer;
        _options = options;
        _contextLength = options.ContextLength > 0 ? options.ContextLength : Math.Min(weights.TrainedContextLength, 4096);
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism > 0 ? options.MaxDegreeOfParallelism : -1 };
        Model = model;
        Identity = new EngineIdentity("managed", typeof(ManagedLlamaEngine).Assembly.GetName().Version?.ToString() ?? "0", "cpu", string.Empty, false, options.KvCacheType, 1);
    }

    /// <inheritdoc />
    public EngineIdentity Identity { get; }

    /// <inheritdoc />
    public ModelDescriptor Model { get; }

    /// <summary>Context window in tokens.</summary>
    public int ContextLength => _contextLength;

    /// <summary>Loads a llama-architecture GGUF model, hashing the file for its <see cref="ModelId"/>.</summary>
    /// <exception cref="PoIPDecodeException">The file is not a valid GGUF llama model.</exception>
    /// <exception cref="EngineException">The model uses tensor types this engine cannot read.</exception>
    public static async Task<ManagedLlamaEngine> LoadAsync(string modelPath, ManagedLlamaEngineOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        options ??= new ManagedLlamaEngineOptions();
        options.Validate();
        ModelId id = await ModelId.FromFileAsync(modelPath, null, cancellationToken).ConfigureAwait(false);
        using GgufFile file = GgufFile.Open(modelPath);
        SpmTokenizer tokenizer = SpmTokenizer.FromGguf(file);
        LlamaWeights weights = LlamaWeights.Load(file, tokenizer.VocabularySize);
        var model = new ModelDescriptor(id, "llama", tokenizer.VocabularySize, weights.EmbeddingLength, weights.LayerCount, weights.TrainedContextLength, tokenizer.Bos, tokenizer.Eos);
        return new ManagedLlamaEngine(weights, tokenizer, options, model);
    }

    /// <inheritdoc />
    public IReadOnlyList<int> Tokenize(string text, bool addBeginOfSequence)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > _options.MaxTextLength)
        {
            throw new EngineException("engine.prompt_too_long", $"Text of {text.Length} characters is over the limit of {_options.MaxTextLength}.");
        }

        return _tokenizer.Encode(text, addBeginOfSequence);
    }

    /// <inheritdoc />
    public string Detokenize(IReadOnlyList<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        return _tokenizer.Decode(tokens);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, IActivationObserver? observer = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ValidatePrompt(request.PromptTokens);
        string? problem = request.Sampling is null ? "sampling parameters are missing." : request.Sampling.Validate();
        if (problem is not null)
        {
            throw new EngineException("engine.invalid_sampling", "Invalid sampling parameters: " + problem);
        }

        if (request.MaxTokens <= 0)
        {
            throw new EngineException("engine.invalid_request", $"MaxTokens must be positive, got {request.MaxTokens}.");
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The cache holds only the positions this request can reach.
            int capacity = (int)Math.Min(_contextLength, (long)request.PromptTokens.Count + request.MaxTokens);
            var session = new LlamaSession(_weights, capacity, _options.KvCacheType == "f16", _parallel);
            await PrefillAsync(session, request.PromptTokens, observer, cancellationToken).ConfigureAwait(false);
            var sampler = new TokenSampler(_tokenizer.VocabularySize);
            var history = new List<int>(request.PromptTokens.Count + request.MaxTokens);
            history.AddRange(request.PromptTokens);
            var text = new StringBuilder();
            bool textStarted = false;
            Decoder utf8 = new UTF8Encoding(false, false).GetDecoder();
            IReadOnlyList<string> stops = request.Sampling!.StopSequences;
            int longestStop = stops.Count == 0 ? 0 : stops.Max(s => s.Length);
            for (int index = 0; ; index++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int token = sampler.Sample(session.Logits, request.Sampling!, request.Seed, index, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history));
                observer?.OnToken(index, token, session.Hidden, session.Logits);
                history.Add(token);
                string piece = DecodePiece(utf8, token);
                int before = text.Length;

                // The stop rule reads the detokenized output text: the first non-empty piece without the
                // space Detokenize removes (docs/engine-standard.md §5).
                bool first = !textStarted && _tokenizer.Piece(token).Length > 0;
                textStarted |= first;
                text.Append(first && _tokenizer.DropsLeadingSpace(token) && piece.StartsWith(' ') ? piece[1..] : piece);
                StopReason stop = StopReason.None;
                if (token == _tokenizer.Eos)
                {
                    stop = StopReason.EndOfSequence;
                }
                else if (longestStop > 0 && EndsWithStop(text, Math.Max(0, before - longestStop + 1), stops))
                {
                    stop = StopReason.StopSequence;
                }
                else if (index + 1 >= request.MaxTokens)
                {
                    stop = StopReason.MaxTokens;
                }
                else if (session.Position >= _contextLength)
                {
                    stop = StopReason.ContextFull;
                }

                yield return new GeneratedToken(index, token, piece, stop);
                if (stop != StopReason.None)
                {
                    yield break;
                }

                cancellationToken.ThrowIfCancellationRequested();
                await Task.Run(() => session.Step(token, computeLogits: true), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    /// <remarks>Any micro-batch: this engine computes one position at a time, in prefill and decoding alike.</remarks>
    public int MaxReplayMicroBatch => int.MaxValue;

    /// <inheritdoc />
    /// <remarks>Teacher forcing here already steps position by position exactly as decoding does, so the replay is that.</remarks>
    public Task ReplayDecodingAsync(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, int promptMicroBatch, IActivationObserver observer, CancellationToken cancellationToken = default)
    {
        if (promptMicroBatch < 1)
        {
            throw new EngineException("engine.invalid_options", $"a prefill micro-batch of {promptMicroBatch} cannot be reproduced.");
        }

        return TeacherForceAsync(promptTokens, outputTokens, observer, cancellationToken);
    }

    /// <inheritdoc />
    public async Task TeacherForceAsync(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, IActivationObserver observer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        ArgumentNullException.ThrowIfNull(outputTokens);
        ArgumentNullException.ThrowIfNull(observer);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ValidatePrompt(promptTokens);
        if (promptTokens.Count + outputTokens.Count - 1 > _contextLength)
        {
            throw new EngineException("engine.context_overflow", $"Prompt ({promptTokens.Count}) + output ({outputTokens.Count}) exceed the context of {_contextLength}.");
        }

        foreach (int token in outputTokens)
        {
            if (!_tokenizer.IsValid(token))
            {
                throw new EngineException("engine.invalid_token", $"Token {token} is outside the vocabulary of {_tokenizer.VocabularySize}.");
            }
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var session = new LlamaSession(_weights, Math.Max(promptTokens.Count, promptTokens.Count + outputTokens.Count - 1), _options.KvCacheType == "f16", _parallel);
            await PrefillAsync(session, promptTokens, observer, cancellationToken).ConfigureAwait(false);
            await Task.Run(
                () =>
                {
                    for (int i = 0; i < outputTokens.Count; i++)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        observer.OnToken(i, outputTokens[i], session.Hidden, session.Logits);
                        if (i + 1 < outputTokens.Count)
                        {
                            session.Step(outputTokens[i], computeLogits: true);
                        }
                    }
                },
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        // The weights are managed arrays and the gate has no wait handle: nothing native to free, and a
        // generation still running finishes normally; new calls are refused.
        Volatile.Write(ref _disposed, 1);
        return ValueTask.CompletedTask;
    }

    private static bool EndsWithStop(StringBuilder text, int from, IReadOnlyList<string> stops)
    {
        string tail = text.ToString(from, text.Length - from);
        foreach (string stop in stops)
        {
            if (tail.Contains(stop, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private string DecodePiece(Decoder utf8, int token)
    {
        ReadOnlySpan<byte> bytes = _tokenizer.Piece(token);
        Span<char> chars = stackalloc char[(bytes.Length * 2) + 4];
        int count = utf8.GetChars(bytes, chars, flush: false);
        return new string(chars[..count]);
    }

    private void ValidatePrompt(IReadOnlyList<int> promptTokens)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        if (promptTokens.Count == 0)
        {
            throw new EngineException("engine.empty_prompt", "The prompt has no tokens.");
        }

        if (promptTokens.Count >= _contextLength)
        {
            throw new EngineException("engine.prompt_too_long", $"The prompt of {promptTokens.Count} tokens does not fit the context of {_contextLength}.");
        }

        foreach (int token in promptTokens)
        {
            if (!_tokenizer.IsValid(token))
            {
                throw new EngineException("engine.invalid_token", $"Token {token} is outside the vocabulary of {_tokenizer.VocabularySize}.");
            }
        }
    }

    private static Task PrefillAsync(LlamaSession session, IReadOnlyList<int> promptTokens, IActivationObserver? observer, CancellationToken cancellationToken) =>
        Task.Run(
            () =>
            {
                for (int i = 0; i < promptTokens.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    session.Step(promptTokens[i], computeLogits: i == promptTokens.Count - 1);
                }

                observer?.OnPrefill(promptTokens.Count, session.Hidden);
            },
            cancellationToken);
}

using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Text;
using LLama.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Core.Hashing;

namespace PoIP.Inference.Llama;

/// <summary>
/// The llama.cpp engine of the Inference Engine Standard, on LLamaSharp's low-level API: a pool of
/// <see cref="LlamaEngineOptions.MaxConcurrentSequences"/> contexts (one sequence each) behind a
/// bounded wait queue, PoIP's managed <see cref="Sampling.TokenSampler"/>, final-norm hidden state
/// and logits of every position reported to an <see cref="IActivationObserver"/>.
/// </summary>
/// <remarks>
/// Every context is created with <c>embeddings = true</c> and pooling <c>none</c>, whether or not a
/// request is observed, so the numbers (and thus the tokens) never depend on who watches; it costs
/// about 20% of prefill speed (llama.cpp then outputs every prompt position).
/// Observability: an optional <see cref="ILogger"/> (load, busy refusals, one line per generation at
/// Debug) and the meter <see cref="MeterName"/> (tokens generated, prefill tokens and duration, decode
/// latency per token, teacher forcing, queue depth, active sequences, busy refusals).
/// </remarks>
public sealed class LlamaInferenceEngine : IInferenceEngine, IDecodingReplay
{
    /// <summary>Durations for metrics, logs and receipts' timings (real time).</summary>
    private static readonly TimeProvider Clock = TimeProvider.System;

    private readonly SafeLlamaModelHandle _model;
    private readonly LlamaSequence[] _sequences;
    private readonly ConcurrentQueue<LlamaSequence> _free = new();
    private readonly SemaphoreSlim _slots;
    private readonly Utf8Pieces _pieces;
    private readonly int _maxInFlight;
    private readonly ILogger _logger;
    private readonly EngineMetrics _metrics;
    private int _inFlight;
    private int _disposed;

    private LlamaInferenceEngine(LlamaEngineOptions options, SafeLlamaModelHandle model, LlamaSequence[] sequences, Utf8Pieces pieces, ModelDescriptor descriptor, EngineIdentity identity, NativeLibraryInfo native, ILogger logger, EngineMetrics metrics)
    {
        Options = options;
        _logger = logger;
        _metrics = metrics;
        _model = model;
        _sequences = sequences;
        _pieces = pieces;
        Model = descriptor;
        Identity = identity;
        Native = native;
        _slots = new SemaphoreSlim(sequences.Length, sequences.Length);
        foreach (var sequence in sequences)
        {
            _free.Enqueue(sequence);
        }

        _maxInFlight = options.MaxConcurrentSequences + options.MaxQueuedRequests;
    }

    /// <summary>Name of the <see cref="Meter"/> the engine publishes its instruments on (<c>poip.inference.*</c>).</summary>
    public const string MeterName = "PoIP.Inference";

    /// <inheritdoc />
    public EngineIdentity Identity { get; }

    /// <inheritdoc />
    public ModelDescriptor Model { get; }

    /// <summary>The options the engine runs with.</summary>
    public LlamaEngineOptions Options { get; }

    /// <summary>The native library serving this engine.</summary>
    public NativeLibraryInfo Native { get; }

    /// <summary>Validates the options, loads the native library and the model, and creates the sequence contexts (no logging; metrics on a meter of its own).</summary>
    /// <exception cref="EngineException">Invalid options, missing/corrupt/unsupported model, native load failure.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Only the cancellation token is optional in both overloads; no call binds ambiguously.")]
    public static Task<LlamaInferenceEngine> LoadAsync(LlamaEngineOptions options, CancellationToken cancellationToken = default) =>
        LoadAsync(options, logger: null, meterFactory: null, cancellationToken);

    /// <summary>Validates the options, loads the native library and the model, and creates the sequence contexts.</summary>
    /// <param name="options">The engine options.</param>
    /// <param name="logger">Where the engine logs (load, busy refusals, per-generation summaries at Debug); null = nowhere.</param>
    /// <param name="meterFactory">Creates the <see cref="MeterName"/> meter (DI hosts pass theirs); null = the engine creates and disposes its own meter.</param>
    /// <param name="cancellationToken">Cancels hashing and loading.</param>
    /// <exception cref="EngineException">Invalid options, missing/corrupt/unsupported model, native load failure.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Only the cancellation token is optional in both overloads; no call binds ambiguously.")]
    public static async Task<LlamaInferenceEngine> LoadAsync(LlamaEngineOptions options, ILogger? logger, IMeterFactory? meterFactory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options = options with { }; // the engine's own copy: the caller's (settable) options may change later
        string? problem = options.Validate();
        if (problem is not null)
        {
            throw new EngineException(EngineErrorCodes.InvalidOptions, "invalid engine options: " + problem);
        }

        string path = Path.GetFullPath(options.ModelPath);
        if (!File.Exists(path))
        {
            throw new EngineException(EngineErrorCodes.ModelNotFound, $"model file not found: {path}");
        }

        string? architecture = GgufProbe.ReadArchitecture(path);
        if (architecture is not null && !options.AllowedArchitectures.Contains(architecture, StringComparer.Ordinal))
        {
            throw new EngineException(EngineErrorCodes.UnsupportedArchitecture, $"model {path} has architecture '{architecture}'; this engine serves {string.Join(", ", options.AllowedArchitectures)}.");
        }

        ModelId id = await ModelId.FromFileAsync(path, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (options.ExpectedModelSha256 is { } expected && !string.Equals(expected, id.ToString(), StringComparison.OrdinalIgnoreCase))
        {
            throw new EngineException(EngineErrorCodes.ModelHashMismatch, $"model {path} has SHA-256 {id}, expected {expected.ToLowerInvariant()}.");
        }

        NativeLibraryInfo native = NativeBackend.EnsureLoaded(options.CpuVariant);
        logger ??= NullLogger.Instance;
        var engine = await Task.Run(() => Create(options, path, id, native, architecture ?? "unknown", logger, meterFactory), cancellationToken).ConfigureAwait(false);
        Log.EngineLoaded(logger, path, id.ToString(), engine.Model.LayerCount, engine.Model.EmbeddingLength, engine.Model.VocabularySize, engine.Identity.ToString(), options.MaxConcurrentSequences, options.ContextSize);
        return engine;
    }

    /// <inheritdoc />
    public IReadOnlyList<int> Tokenize(string text, bool addBeginOfSequence)
    {
        ArgumentNullException.ThrowIfNull(text);
        ThrowIfDisposed();
        int limit = Options.ContextSize;
        if (text.Length > limit * 64)
        {
            throw new EngineException(EngineErrorCodes.PromptTooLong, $"text of {text.Length} characters is over the limit of {limit * 64} characters.");
        }

        LLamaToken[] tokens = _model.Tokenize(text, addBeginOfSequence, false, Encoding.UTF8);
        if (tokens.Length > limit)
        {
            throw new EngineException(EngineErrorCodes.PromptTooLong, $"text is {tokens.Length} tokens, over the context of {limit} tokens.");
        }

        var result = new int[tokens.Length];
        for (int i = 0; i < tokens.Length; i++)
        {
            result[i] = (int)tokens[i];
        }

        return result;
    }

    /// <inheritdoc />
    public string Detokenize(IReadOnlyList<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ThrowIfDisposed();
        var bytes = new System.Buffers.ArrayBufferWriter<byte>(Math.Max(16, tokens.Count * 4));
        bool first = true;
        for (int i = 0; i < tokens.Count; i++)
        {
            int token = tokens[i];
            if ((uint)token >= (uint)Model.VocabularySize)
            {
                throw new EngineException(EngineErrorCodes.InvalidToken, $"token {token} at index {i} is outside the vocabulary of {Model.VocabularySize}.");
            }

            ReadOnlySpan<byte> piece = _pieces.Bytes(token);
            if (first && piece.Length > 0)
            {
                // SentencePiece adds a space before the text it tokenizes; the standard's Detokenize
                // removes it again so that Detokenize(Tokenize(text)) == text (as the managed engine does).
                first = false;
                if (piece[0] == (byte)' ')
                {
                    piece = piece[1..];
                }
            }

            piece.CopyTo(bytes.GetSpan(piece.Length));
            bytes.Advance(piece.Length);
        }

        return Encoding.UTF8.GetString(bytes.WrittenSpan);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(GenerationRequest request, IActivationObserver? observer = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ThrowIfDisposed();
        ValidateGeneration(request);
        cancellationToken.ThrowIfCancellationRequested();
        LlamaSequence sequence = await AcquireAsync(cancellationToken).ConfigureAwait(false);
        int produced = 0;
        var stop = StopReason.None;
        TimeSpan prefill = TimeSpan.Zero, decoding = TimeSpan.Zero;
        try
        {
            long started = Clock.GetTimestamp();
            await Task.Run(() => sequence.Prefill(request.PromptTokens, observer, cancellationToken), cancellationToken).ConfigureAwait(false);
            prefill = Clock.GetElapsedTime(started);
            _metrics.Prefilled(request.PromptTokens.Count, prefill);
            for (int index = 0; ; index++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                GeneratedToken token = sequence.Next(index, request, observer);
                produced++;
                _metrics.TokenGenerated();
                stop = token.Stop;
                yield return token;
                if (stop != StopReason.None)
                {
                    yield break;
                }

                cancellationToken.ThrowIfCancellationRequested();
                long fed = Clock.GetTimestamp();
                sequence.Feed(token.TokenId);
                TimeSpan decode = Clock.GetElapsedTime(fed);
                decoding += decode;
                _metrics.Decoded(decode);
            }
        }
        finally
        {
            Release(sequence);
            if (stop == StopReason.None)
            {
                Log.GenerationAbandoned(_logger, produced);
            }
            else
            {
                Log.Generated(_logger, produced, request.PromptTokens.Count, stop, prefill.TotalMilliseconds, produced > 1 ? (produced - 1) / decoding.TotalSeconds : 0);
            }
        }
    }

    /// <inheritdoc />
    public async Task TeacherForceAsync(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, IActivationObserver observer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        ArgumentNullException.ThrowIfNull(outputTokens);
        ArgumentNullException.ThrowIfNull(observer);
        ThrowIfDisposed();
        ValidateForcedTokens(promptTokens, outputTokens);
        LlamaSequence sequence = await AcquireAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long started = Clock.GetTimestamp();
            await Task.Run(() => sequence.TeacherForce(promptTokens, outputTokens, observer, cancellationToken), cancellationToken).ConfigureAwait(false);
            TimeSpan elapsed = Clock.GetElapsedTime(started);
            _metrics.TeacherForced(promptTokens.Count + outputTokens.Count - 1, elapsed);
            Log.TeacherForced(_logger, promptTokens.Count, outputTokens.Count, elapsed.TotalMilliseconds);
        }
        finally
        {
            Release(sequence);
        }
    }

    /// <inheritdoc />
    public int MaxReplayMicroBatch => Options.MicroBatchSize;

    /// <inheritdoc />
    public async Task ReplayDecodingAsync(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens, int promptMicroBatch, IActivationObserver observer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        ArgumentNullException.ThrowIfNull(outputTokens);
        ArgumentNullException.ThrowIfNull(observer);
        ThrowIfDisposed();
        ValidateForcedTokens(promptTokens, outputTokens);
        if (promptMicroBatch < 1 || promptMicroBatch > Options.MicroBatchSize)
        {
            throw new EngineException(EngineErrorCodes.InvalidOptions, $"a prefill micro-batch of {promptMicroBatch} cannot be reproduced by this engine (micro-batch {Options.MicroBatchSize}).");
        }

        LlamaSequence sequence = await AcquireAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long started = Clock.GetTimestamp();
            await Task.Run(() => sequence.Replay(promptTokens, outputTokens, promptMicroBatch, observer, cancellationToken), cancellationToken).ConfigureAwait(false);
            Log.DecodingReplayed(_logger, promptTokens.Count, outputTokens.Count, Clock.GetElapsedTime(started).TotalMilliseconds);
        }
        finally
        {
            Release(sequence);
        }
    }

    /// <summary>Waits for running requests to end, then frees the contexts and the model.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        for (int i = 0; i < _sequences.Length; i++)
        {
            await _slots.WaitAsync().ConfigureAwait(false);
        }

        foreach (var sequence in _sequences)
        {
            sequence.Dispose();
        }

        _model.Dispose();
        _slots.Dispose();
        _metrics.Dispose();
        Log.EngineDisposed(_logger);
    }

    private static LlamaInferenceEngine Create(LlamaEngineOptions options, string path, ModelId id, NativeLibraryInfo native, string architecture, ILogger logger, IMeterFactory? meterFactory)
    {
        var modelParams = LLamaModelParams.Default();
        modelParams.n_gpu_layers = options.GpuLayers;
        NativeBackend.TakeLastError();
        SafeLlamaModelHandle model;
        try
        {
            model = SafeLlamaModelHandle.LoadFromFile(path, modelParams);
        }
        catch (Exception ex) when (ex is LLama.Exceptions.LoadWeightsFailedException or LLama.Exceptions.RuntimeError)
        {
            string? detail = NativeBackend.TakeLastError();
            throw new EngineException(EngineErrorCodes.ModelLoadFailed, $"llama.cpp could not load {path}: {detail ?? ex.Message}", innerException: ex);
        }

        var sequences = new List<LlamaSequence>();
        try
        {
            // llama.cpp c0c7e147 crashes (segfault) on a quantised KV cache whose head rows are not whole
            // 32-element blocks (e.g. stories260K: head dimension 8): refuse it before it can.
            int headDimension = model.HeadCount > 0 ? model.EmbeddingSize / model.HeadCount : 0;
            if (options.KvCacheType == KvCacheType.Q80 && (headDimension == 0 || headDimension % 32 != 0))
            {
                throw new EngineException(EngineErrorCodes.InvalidOptions, $"a q8_0 KV cache needs an attention head dimension that is a multiple of 32; model {path} has {headDimension}.");
            }

            var vocabulary = model.Vocab;
            int vocabularySize = vocabulary.Count;
            int bos = vocabulary.BOS is { } b ? (int)b : -1;
            int eos = vocabulary.EOS is { } e ? (int)e : -1;
            var descriptor = new ModelDescriptor(id, architecture, vocabularySize, model.EmbeddingSize, model.LayerCount, model.ContextSize, bos, eos);
            var pieces = new Utf8Pieces(model, vocabularySize);
            int threads = options.Threads == 0 ? Environment.ProcessorCount : options.Threads;
            for (int i = 0; i < options.MaxConcurrentSequences; i++)
            {
                var contextParams = LLamaContextParams.Default();
                contextParams.n_ctx = (uint)options.ContextSize;
                contextParams.n_batch = (uint)options.MicroBatchSize;
                contextParams.n_ubatch = (uint)options.MicroBatchSize;
                contextParams.n_seq_max = 1;
                contextParams.n_threads = threads;
                contextParams.n_threads_batch = threads;
                contextParams.embeddings = true;
                contextParams.llama_pooling_type = LLamaPoolingType.None;
                contextParams.llama_flash_attn_type = options.FlashAttention ? LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_ENABLED : LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_DISABLED;
                contextParams.type_k = contextParams.type_v = options.KvCacheType switch
                {
                    KvCacheType.F32 => GGMLType.GGML_TYPE_F32,
                    KvCacheType.Q80 => GGMLType.GGML_TYPE_Q8_0,
                    _ => GGMLType.GGML_TYPE_F16,
                };
                SafeLLamaContextHandle context;
                try
                {
                    context = SafeLLamaContextHandle.Create(model, contextParams);
                }
                catch (LLama.Exceptions.RuntimeError ex)
                {
                    string? detail = NativeBackend.TakeLastError();
                    throw new EngineException(EngineErrorCodes.ContextCreateFailed, $"llama.cpp could not create a context of {options.ContextSize} tokens: {detail ?? ex.Message}", innerException: ex);
                }

                sequences.Add(new LlamaSequence(context, pieces, vocabularySize, eos, options.MicroBatchSize, options.AdditionalEndTokens, serialiseDecodes: native.Backend != "cpu"));
            }

            // A GPU build can offload large operations even with no layers on the GPU: report what is loaded.
            var identity = new EngineIdentity("llama.cpp", native.Build, native.Backend, native.CpuVariant, options.FlashAttention, KvName(options.KvCacheType), options.MicroBatchSize);
            return new LlamaInferenceEngine(options, model, [.. sequences], pieces, descriptor, identity, native, logger, new EngineMetrics(meterFactory));
        }
        catch
        {
            foreach (var sequence in sequences)
            {
                sequence.Dispose();
            }

            model.Dispose();
            throw;
        }
    }

    private static string KvName(KvCacheType type) => type switch
    {
        KvCacheType.F32 => "f32",
        KvCacheType.Q80 => "q8_0",
        _ => "f16",
    };

    private void ValidateGeneration(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request.Sampling);
        ArgumentNullException.ThrowIfNull(request.PromptTokens);
        string? problem = request.Sampling.Validate();
        if (problem is not null)
        {
            throw new EngineException(EngineErrorCodes.InvalidSampling, "invalid sampling parameters: " + problem);
        }

        if (request.MaxTokens < 1 || request.MaxTokens > Options.MaxOutputTokens)
        {
            throw new EngineException(EngineErrorCodes.InvalidMaxTokens, $"max tokens must be in [1, {Options.MaxOutputTokens}], got {request.MaxTokens}.");
        }

        ValidateTokens(request.PromptTokens, "prompt");
        if (request.PromptTokens.Count >= Options.ContextSize)
        {
            throw new EngineException(EngineErrorCodes.ContextOverflow, $"prompt of {request.PromptTokens.Count} tokens leaves no room in the context of {Options.ContextSize}.");
        }
    }

    private void ValidateForcedTokens(IReadOnlyList<int> promptTokens, IReadOnlyList<int> outputTokens)
    {
        ValidateTokens(promptTokens, "prompt");
        ValidateTokens(outputTokens, "output");
        if (outputTokens.Count == 0)
        {
            throw new EngineException(EngineErrorCodes.InvalidMaxTokens, "teacher forcing needs at least one output token.");
        }

        if (promptTokens.Count + outputTokens.Count - 1 > Options.ContextSize)
        {
            throw new EngineException(EngineErrorCodes.ContextOverflow, $"prompt ({promptTokens.Count}) + output ({outputTokens.Count}) tokens do not fit the context of {Options.ContextSize}.");
        }
    }

    private void ValidateTokens(IReadOnlyList<int> tokens, string what)
    {
        if (tokens.Count == 0)
        {
            throw new EngineException(EngineErrorCodes.EmptyPrompt, $"the {what} is empty.");
        }

        if (what == "prompt" && tokens.Count > Options.MaxPromptTokens)
        {
            throw new EngineException(EngineErrorCodes.PromptTooLong, $"prompt of {tokens.Count} tokens is over the limit of {Options.MaxPromptTokens}.");
        }

        if (what == "output" && tokens.Count > Options.MaxOutputTokens)
        {
            throw new EngineException(EngineErrorCodes.InvalidMaxTokens, $"output of {tokens.Count} tokens is over the limit of {Options.MaxOutputTokens}.");
        }

        for (int i = 0; i < tokens.Count; i++)
        {
            if ((uint)tokens[i] >= (uint)Model.VocabularySize)
            {
                throw new EngineException(EngineErrorCodes.InvalidToken, $"{what} token {tokens[i]} at index {i} is outside the vocabulary of {Model.VocabularySize}.");
            }
        }
    }

    private async ValueTask<LlamaSequence> AcquireAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _inFlight) > _maxInFlight)
        {
            Interlocked.Decrement(ref _inFlight);
            _metrics.Rejected();
            Log.Busy(_logger, _sequences.Length, Options.MaxQueuedRequests);
            throw new EngineException(EngineErrorCodes.Busy, $"all {_sequences.Length} sequences are busy and {Options.MaxQueuedRequests} requests are already waiting.");
        }

        if (!_slots.Wait(0, CancellationToken.None))
        {
            _metrics.Queued(1);
            try
            {
                await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                Interlocked.Decrement(ref _inFlight);
                throw;
            }
            finally
            {
                _metrics.Queued(-1);
            }
        }

        if (!_free.TryDequeue(out var sequence))
        {
            _slots.Release();
            Interlocked.Decrement(ref _inFlight);
            throw new InvalidOperationException("sequence pool out of sync.");
        }

        _metrics.Active(1);
        return sequence;
    }

    private void Release(LlamaSequence sequence)
    {
        _metrics.Active(-1);
        _free.Enqueue(sequence);
        _slots.Release();
        Interlocked.Decrement(ref _inFlight);
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new EngineException(EngineErrorCodes.Disposed, "the engine has been disposed.");
        }
    }
}

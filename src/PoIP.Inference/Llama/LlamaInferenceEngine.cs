using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Text;
using LLama.Native;
using Microsoft.Extensions.Logging;
using PoIP.Core.Engine;
using PoIP.Core.Errors;

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
public sealed partial class LlamaInferenceEngine : IInferenceEngine, IDecodingReplay
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

    /// <summary>
    /// Largest micro-batch whose teacher-forced prefill equals decoding bit for bit (docs/proofs.md §9b,
    /// session 7): from 64 query rows on, llama.cpp c0c7e147's CPU flash attention takes a tiled path
    /// whose numbers differ from the one-row path decoding takes.
    /// </summary>
    internal const int MaxExactPrefillMicroBatch = 63;

    /// <summary>
    /// Whether this engine's teacher-forced prefill computes decoding's numbers bit for bit (measured,
    /// docs/proofs.md §9b session 7): CPU backend, weight repacking off, flash attention on, F16 KV cache,
    /// micro-batch ≤ <see cref="MaxExactPrefillMicroBatch"/>, and every weight matrix of the model a
    /// K-quant (Q2_K–Q6_K: no llamafile batch kernel, so every product takes ggml's per-row dot product
    /// whatever the batch). F32/F16/Q8_0/Q4_0 weights have batch kernels (stories260K: F32): never exact.
    /// </summary>
    internal bool PrefillMatchesDecoding { get; private init; }

    /// <inheritdoc />
    public ModelDescriptor Model { get; }

    /// <summary>The options the engine runs with.</summary>
    public LlamaEngineOptions Options { get; }

    /// <summary>The native library serving this engine.</summary>
    public NativeLibraryInfo Native { get; }

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

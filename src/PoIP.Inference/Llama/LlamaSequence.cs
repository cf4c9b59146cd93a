using LLama.Native;
using PoIP.Core.Engine;
using PoIP.Core.Errors;
using PoIP.Inference.Sampling;

namespace PoIP.Inference.Llama;

/// <summary>
/// One sequence slot: a llama.cpp context (n_seq_max = 1) with its batch, sampler and buffers, all
/// reused from request to request so the decode loop allocates nothing per token.
/// </summary>
internal sealed class LlamaSequence : IDisposable
{
    private const int TailCapacity = 4 * Core.Protocol.SamplingParameters.MaxStopSequenceLength;
    private readonly SafeLLamaContextHandle _context;
    private readonly NativeBatch _batch;
    private readonly bool _serialise;
    private readonly Utf8Pieces _pieces;
    private readonly Utf8Stream _utf8 = new();
    private readonly int[] _history;
    private readonly char[] _tail = new char[TailCapacity];
    private readonly int _contextSize;
    private readonly int _microBatch;
    private readonly int _vocabularySize;
    private readonly int _endOfSequence;
    private readonly bool[] _isEnd;
    private readonly SafeLlamaModelHandle.Vocabulary _vocabulary;
    private int _historyCount;
    private int _position;
    private int _lastOutput;
    private int _tailLength;
    private bool _textStarted;

    public LlamaSequence(SafeLLamaContextHandle context, Utf8Pieces pieces, int vocabularySize, int endOfSequence, int microBatch, IReadOnlyList<int> additionalEndTokens, bool serialiseDecodes)
    {
        _context = context;
        _pieces = pieces;
        _vocabularySize = vocabularySize;
        _endOfSequence = endOfSequence;
        _isEnd = new bool[vocabularySize];
        foreach (int t in additionalEndTokens)
        {
            if ((uint)t < (uint)vocabularySize)
            {
                _isEnd[t] = true;
            }
        }

        _microBatch = microBatch;
        _batch = new NativeBatch(microBatch);
        _serialise = serialiseDecodes;
        _contextSize = (int)context.ContextSize;
        _history = new int[_contextSize + 1];
        _vocabulary = context.ModelHandle.Vocab;
        Sampler = new TokenSampler(vocabularySize);
    }

    public TokenSampler Sampler { get; }

    public int ContextSize => _contextSize;

    /// <summary>Clears the KV cache and evaluates the prompt; afterwards the logits of its last position are current.</summary>
    public void Prefill(IReadOnlyList<int> prompt, IActivationObserver? observer, CancellationToken cancellationToken) =>
        Prefill(prompt, _microBatch, observer, cancellationToken);

    /// <summary>Prefill in micro-batches of <paramref name="microBatch"/> (≤ the context's) tokens: what a node with that ubatch computed.</summary>
    public void Prefill(IReadOnlyList<int> prompt, int microBatch, IActivationObserver? observer, CancellationToken cancellationToken)
    {
        _context.MemoryClear(true);
        _position = 0;
        _historyCount = 0;
        _tailLength = 0;
        _textStarted = false;
        _utf8.Reset();
        for (int i = 0; i < prompt.Count; i++)
        {
            _history[_historyCount++] = prompt[i];
        }

        int last = -1;
        for (int start = 0; start < prompt.Count; start += microBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int end = Math.Min(prompt.Count, start + microBatch);
            _batch.Clear();
            for (int p = start; p < end; p++)
            {
                last = _batch.Add(prompt[p], p, p == prompt.Count - 1);
            }

            Decode();
            _position = end;
        }

        _lastOutput = last;
        observer?.OnPrefill(prompt.Count, Hidden(_lastOutput));
    }

    /// <summary>Chooses output token <paramref name="index"/> from the current logits and reports it.</summary>
    public GeneratedToken Next(int index, GenerationRequest request, IActivationObserver? observer)
    {
        ReadOnlySpan<float> logits = Logits(_lastOutput);
        int token = Sampler.Sample(logits, request.Sampling, request.Seed, index, _history.AsSpan(0, _historyCount));
        observer?.OnToken(index, token, Hidden(_lastOutput), logits);
        _history[_historyCount++] = token;

        string piece = _utf8.Append(_pieces, token);
        StopReason stop = StopReason.None;
        if (token == _endOfSequence || _isEnd[token] || ((LLamaToken)token).IsEndOfGeneration(_vocabulary))
        {
            stop = StopReason.EndOfSequence;
        }
        else if (AppendAndMatchStop(StopText(token, piece), request.Sampling.StopSequences))
        {
            stop = StopReason.StopSequence;
        }
        else if (index + 1 >= request.MaxTokens)
        {
            stop = StopReason.MaxTokens;
        }
        else if (_position + 1 > _contextSize)
        {
            stop = StopReason.ContextFull;
        }

        return new GeneratedToken(index, token, piece, stop);
    }

    /// <summary>Feeds a chosen token, making the logits of its position current.</summary>
    public void Feed(int token)
    {
        _batch.Clear();
        _lastOutput = _batch.Add(token, _position, true);
        Decode();
        _position++;
    }

    /// <summary>One teacher-forced pass over prompt + output (the last output token needs no pass of its own).</summary>
    public void TeacherForce(IReadOnlyList<int> prompt, IReadOnlyList<int> output, IActivationObserver observer, CancellationToken cancellationToken)
    {
        _context.MemoryClear(true);
        _position = 0;
        int promptCount = prompt.Count;
        int total = promptCount + output.Count - 1;
        int firstObserved = promptCount - 1;
        for (int start = 0; start < total; start += _microBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int end = Math.Min(total, start + _microBatch);
            _batch.Clear();
            for (int p = start; p < end; p++)
            {
                int token = p < promptCount ? prompt[p] : output[p - promptCount];
                _batch.Add(token, p, p >= firstObserved);
            }

            Decode();
            _position = end;
            for (int p = Math.Max(start, firstObserved); p < end; p++)
            {
                int local = p - start;
                ReadOnlySpan<float> hidden = Hidden(local);
                if (p == firstObserved)
                {
                    observer.OnPrefill(promptCount, hidden);
                }

                int index = p - firstObserved;
                observer.OnToken(index, output[index], hidden, Logits(local));
            }
        }
    }

    /// <summary>
    /// Replays a generation step by step (<see cref="Core.Engine.IDecodingReplay"/>): the prompt prefill
    /// of a node with micro-batch <paramref name="promptMicroBatch"/>, then one <see cref="Feed"/> per
    /// claimed token, reporting each position from the same output row decoding read it from.
    /// </summary>
    public void Replay(IReadOnlyList<int> prompt, IReadOnlyList<int> output, int promptMicroBatch, IActivationObserver observer, CancellationToken cancellationToken)
    {
        Prefill(prompt, promptMicroBatch, observer, cancellationToken);
        for (int index = 0; index < output.Count; index++)
        {
            observer.OnToken(index, output[index], Hidden(_lastOutput), Logits(_lastOutput));
            if (index + 1 < output.Count)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Feed(output[index]);
            }
        }
    }

    public void Dispose()
    {
        _context.Dispose();
    }

    private ReadOnlySpan<float> Logits(int batchIndex) => _context.GetLogitsIth(batchIndex)[.._vocabularySize];

    private ReadOnlySpan<float> Hidden(int batchIndex) => _context.GetEmbeddingsIth(batchIndex);

    private void Decode()
    {
        DecodeResult result = _batch.Decode(_context, _serialise);
        if (result != DecodeResult.Ok)
        {
            string? detail = NativeBackend.TakeLastError();
            throw result == DecodeResult.NoKvSlot
                ? new EngineException(EngineErrorCodes.ContextOverflow, $"llama_decode found no KV-cache slot at position {_position} (context {_contextSize}).")
                : new EngineException(EngineErrorCodes.DecodeFailed, $"llama_decode failed: {result}{(detail is null ? string.Empty : ": " + detail)}.");
        }
    }

    /// <summary>
    /// The piece as it appears in the detokenized output text (the standard's stop rule, and what the
    /// verifier's termination check reads): the first non-empty piece loses its leading space, as
    /// <see cref="LlamaInferenceEngine.Detokenize"/> removes it (a stop " the" at the very start of an
    /// output is not in its text; found by the false-positive campaign, docs/proofs.md §7b).
    /// </summary>
    private string StopText(int token, string piece)
    {
        if (_textStarted)
        {
            return piece;
        }

        ReadOnlySpan<byte> bytes = _pieces.Bytes(token);
        if (bytes.Length == 0)
        {
            return piece;
        }

        _textStarted = true;
        return bytes[0] == (byte)' ' && piece.Length > 0 && piece[0] == ' ' ? piece[1..] : piece;
    }

    /// <summary>Appends the piece to the text tail and reports whether a stop sequence now appears in the new text.</summary>
    private bool AppendAndMatchStop(string piece, IReadOnlyList<string> stops)
    {
        if (stops.Count == 0 || piece.Length == 0)
        {
            return false;
        }

        ReadOnlySpan<char> add = piece.AsSpan();
        if (add.Length >= TailCapacity)
        {
            add = add[^TailCapacity..];
            _tailLength = 0;
        }
        else if (_tailLength + add.Length > TailCapacity)
        {
            int drop = _tailLength + add.Length - TailCapacity;
            Array.Copy(_tail, drop, _tail, 0, _tailLength - drop);
            _tailLength -= drop;
        }

        add.CopyTo(_tail.AsSpan(_tailLength));
        _tailLength += add.Length;
        ReadOnlySpan<char> text = _tail.AsSpan(0, _tailLength);
        for (int i = 0; i < stops.Count; i++)
        {
            string stop = stops[i];

            // Only matches that end inside the new piece count (earlier ones would have stopped already).
            int from = Math.Max(0, _tailLength - add.Length - stop.Length + 1);
            if (text[from..].Contains(stop.AsSpan(), StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

using LLama.Native;

namespace PoIP.Inference.Tests.Managed;

/// <summary>
/// llama.cpp driven directly through LLamaSharp's low-level API (the reference the managed engine is
/// compared against): flash attention off, embeddings on with pooling none (final-norm hidden state
/// of every position), one thread, token-by-token greedy decoding.
/// </summary>
internal sealed class LlamaCppReference : IDisposable
{
    private static readonly Lock LogLock = new();
    private static bool _logSilenced;
    private readonly SafeLlamaModelHandle _model;
    private readonly SafeLLamaContextHandle _context;

    public LlamaCppReference(string modelPath, int contextLength = 256)
    {
        lock (LogLock)
        {
            if (!_logSilenced)
            {
                NativeApi.llama_empty_call(); // loads the native library through LLamaSharp's resolver
                NativeLogConfig.llama_log_set((_, _) => { });
                _logSilenced = true;
            }
        }

        var modelParams = LLamaModelParams.Default();
        _model = SafeLlamaModelHandle.LoadFromFile(modelPath, modelParams);
        var contextParams = LLamaContextParams.Default();
        contextParams.n_ctx = (uint)contextLength;
        contextParams.n_batch = (uint)contextLength;
        contextParams.n_ubatch = (uint)contextLength;
        contextParams.n_seq_max = 1;
        contextParams.n_threads = 1;
        contextParams.n_threads_batch = 1;
        contextParams.embeddings = true;
        contextParams.llama_pooling_type = LLamaPoolingType.None;
        contextParams.llama_flash_attn_type = LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_DISABLED;
        _context = SafeLLamaContextHandle.Create(_model, contextParams);
        VocabularySize = _model.Vocab.Count;
        EmbeddingLength = _model.EmbeddingSize;
    }

    public int VocabularySize { get; }

    public int EmbeddingLength { get; }

    public int[] Tokenize(string text, bool addBos) =>
        [.. _model.Tokenize(text, addBos, special: false, System.Text.Encoding.UTF8).Select(t => (int)t)];

    /// <summary>Greedy token-by-token decode; returns tokens and the hidden state each was chosen from.</summary>
    public (List<int> Tokens, List<float[]> Hidden) GreedyDecode(IReadOnlyList<int> prompt, int maxTokens, int eos)
    {
        _context.MemoryClear(true);
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Count; i++)
        {
            batch.Add((LLamaToken)prompt[i], i, (LLamaSeqId)0, i == prompt.Count - 1);
        }

        Check(_context.Decode(batch));
        int outputIndex = prompt.Count - 1;
        var tokens = new List<int>();
        var hidden = new List<float[]>();
        int position = prompt.Count;
        for (int n = 0; n < maxTokens; n++)
        {
            Span<float> logits = _context.GetLogitsIth(outputIndex);
            hidden.Add(_context.GetEmbeddingsIth(outputIndex).ToArray());
            int best = 0;
            for (int i = 1; i < logits.Length; i++)
            {
                if (logits[i] > logits[best])
                {
                    best = i;
                }
            }

            tokens.Add(best);
            if (best == eos)
            {
                break;
            }

            batch.Clear();
            batch.Add((LLamaToken)best, position++, (LLamaSeqId)0, true);
            Check(_context.Decode(batch));
            outputIndex = 0;
        }

        return (tokens, hidden);
    }

    public void Dispose()
    {
        _context.Dispose();
        _model.Dispose();
    }

    private static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException("llama_decode failed: " + result);
        }
    }
}

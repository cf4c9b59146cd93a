using PoIP.Core.Hashing;

namespace PoIP.Core.Engine;

/// <summary>What an engine knows about the model it serves.</summary>
/// <param name="Id">SHA-256 of the GGUF file.</param>
/// <param name="Architecture">GGUF <c>general.architecture</c>, e.g. <c>llama</c>.</param>
/// <param name="VocabularySize">Number of tokens.</param>
/// <param name="EmbeddingLength">Width of the hidden state (<c>n_embd</c>).</param>
/// <param name="LayerCount">Number of transformer blocks.</param>
/// <param name="TrainedContextLength">Context length the model was trained with.</param>
/// <param name="BeginOfSequenceToken">BOS token id, or -1.</param>
/// <param name="EndOfSequenceToken">EOS token id, or -1.</param>
public sealed record ModelDescriptor(
    ModelId Id,
    string Architecture,
    int VocabularySize,
    int EmbeddingLength,
    int LayerCount,
    int TrainedContextLength,
    int BeginOfSequenceToken,
    int EndOfSequenceToken);

using System.Text;
using PoIP.Core.Engine;
using PoIP.Core.Protocol;
using PoIP.Inference.Llama;

namespace PoIP.Packaging.Tests.Snippets;

/// <summary>The example of src/PoIP.Inference/README.md.</summary>
internal static class InferenceSnippet
{
    public static async Task<(int Tokens, string Text)> RunAsync(string modelPath)
    {
        // begin-snippet: inference
        // llama.cpp through LLamaSharp; the application references a native backend (LLamaSharp.Backend.Cpu).
        await using var engine = await LlamaInferenceEngine.LoadAsync(new LlamaEngineOptions
        {
            ModelPath = modelPath,   // a GGUF file, identified by the SHA-256 of its bytes
            Threads = 1,
            ContextSize = 512,
            MaxPromptTokens = 256,
            MaxOutputTokens = 128,
        });
        var prompt = engine.Tokenize("Once upon a time", addBeginOfSequence: true);
        var request = new GenerationRequest(prompt, new SamplingParameters { Temperature = 0.8f }, Seed: 42, MaxTokens: 16);
        var text = new StringBuilder();
        int tokens = 0;
        await foreach (GeneratedToken token in engine.GenerateAsync(request))
        {
            text.Append(token.Piece);   // the same seed gives the same tokens: a validator can re-check them
            tokens++;
        }
        // end-snippet
        return (tokens, text.ToString());
    }
}

namespace PoIP.Inference.Llama;

/// <summary>The stable codes of the <see cref="PoIP.Core.Errors.EngineException"/>s this package raises.</summary>
public static class EngineErrorCodes
{
    /// <summary>The engine options are invalid.</summary>
    public const string InvalidOptions = "engine.invalid_options";

    /// <summary>The native llama.cpp library could not be loaded (fatal).</summary>
    public const string NativeLoadFailed = "engine.native_load_failed";

    /// <summary>The native library already loaded is another CPU variant than the one asked for (fatal).</summary>
    public const string NativeVariantMismatch = "engine.native_variant_mismatch";

    /// <summary>The loaded native library reports another build than the one this SDK binds and records (fatal).</summary>
    public const string NativeBuildMismatch = "engine.native_build_mismatch";

    /// <summary>The model file does not exist.</summary>
    public const string ModelNotFound = "engine.model_not_found";

    /// <summary>The model file is not a readable GGUF file.</summary>
    public const string ModelCorrupt = "engine.model_corrupt";

    /// <summary>llama.cpp refused to load the model.</summary>
    public const string ModelLoadFailed = "engine.model_load_failed";

    /// <summary>The model's <c>general.architecture</c> is not one the engine serves.</summary>
    public const string UnsupportedArchitecture = "engine.unsupported_architecture";

    /// <summary>The model file's SHA-256 differs from the expected one.</summary>
    public const string ModelHashMismatch = "engine.model_hash_mismatch";

    /// <summary>A llama.cpp context could not be created.</summary>
    public const string ContextCreateFailed = "engine.context_create_failed";

    /// <summary>The prompt is empty.</summary>
    public const string EmptyPrompt = "engine.empty_prompt";

    /// <summary>The prompt has more tokens than <see cref="LlamaEngineOptions.MaxPromptTokens"/>.</summary>
    public const string PromptTooLong = "engine.prompt_too_long";

    /// <summary>Prompt and output do not fit the context window.</summary>
    public const string ContextOverflow = "engine.context_overflow";

    /// <summary>A token id is outside the vocabulary.</summary>
    public const string InvalidToken = "engine.invalid_token";

    /// <summary>The sampling parameters are invalid.</summary>
    public const string InvalidSampling = "engine.invalid_sampling";

    /// <summary>The token limit is not in [1, <see cref="LlamaEngineOptions.MaxOutputTokens"/>].</summary>
    public const string InvalidMaxTokens = "engine.invalid_max_tokens";

    /// <summary>Every sequence slot is busy and the wait queue is full.</summary>
    public const string Busy = "engine.busy";

    /// <summary>llama_decode failed.</summary>
    public const string DecodeFailed = "engine.decode_failed";

    /// <summary>The engine has been disposed.</summary>
    public const string Disposed = "engine.disposed";

    /// <summary>The known-answer test failed: this node must not serve (fatal).</summary>
    public const string KnownAnswerFailed = "engine.known_answer_failed";
}

namespace PoIP.Gateway.Chat;

/// <summary>How chat messages become the prompt text (recognised from the GGUF chat template).</summary>
internal enum PromptFormat
{
    /// <summary>No (or an unrecognised) template: the documented plain fallback.</summary>
    Plain,
    ChatMl,
    Llama3,
    Llama2,
    Gemma,
    Phi3,
    Zephyr,
}

using System.Text;

namespace PoIP.Gateway.Chat;

/// <summary>
/// Renders chat messages into the prompt text a node's engine reads. The model's GGUF
/// <c>tokenizer.chat_template</c> (a Jinja program) is recognised by the markers of the common
/// families, as llama.cpp's server does, and rendered by fixed code for that family; a model
/// without a template, or with one no family matches, gets the plain fallback:
/// one <c>User</c> message alone is the prompt as is (a base model continues it); otherwise each
/// message is a line <c>System: …</c>, <c>User: …</c> or <c>Assistant: …</c> and the prompt ends with
/// <c>Assistant:</c>. The beginning-of-sequence token is not written: the engine adds it.
/// The text is fixed before the request is signed, so the signed input root covers exactly it.
/// </summary>
internal sealed class ChatTemplate
{
    private ChatTemplate(PromptFormat format) => Format = format;

    /// <summary>The family recognised.</summary>
    public PromptFormat Format { get; }

    /// <summary>The lower-case name reported in the <c>poip</c> object.</summary>
    public string Name => Format switch
    {
        PromptFormat.ChatMl => "chatml",
        PromptFormat.Llama3 => "llama3",
        PromptFormat.Llama2 => "llama2",
        PromptFormat.Gemma => "gemma",
        PromptFormat.Phi3 => "phi3",
        PromptFormat.Zephyr => "zephyr",
        _ => "plain",
    };

    /// <summary>Recognises a GGUF chat template (null or empty: plain).</summary>
    public static ChatTemplate FromGguf(string? template) => new(
        string.IsNullOrEmpty(template) ? PromptFormat.Plain
        : template.Contains("<|im_start|>", StringComparison.Ordinal) ? PromptFormat.ChatMl
        : template.Contains("<|start_header_id|>", StringComparison.Ordinal) ? PromptFormat.Llama3
        : template.Contains("<start_of_turn>", StringComparison.Ordinal) ? PromptFormat.Gemma
        : template.Contains("<|user|>", StringComparison.Ordinal) && template.Contains("<|end|>", StringComparison.Ordinal) ? PromptFormat.Phi3
        : template.Contains("<|user|>", StringComparison.Ordinal) ? PromptFormat.Zephyr
        : template.Contains("[INST]", StringComparison.Ordinal) ? PromptFormat.Llama2
        : PromptFormat.Plain);

    /// <summary>The prompt for <paramref name="turns"/>, ready for the assistant's reply.</summary>
    public string Render(IReadOnlyList<ChatTurn> turns)
    {
        ArgumentNullException.ThrowIfNull(turns);
        var text = new StringBuilder();
        switch (Format)
        {
            case PromptFormat.ChatMl:
                foreach (var t in turns)
                {
                    text.Append("<|im_start|>").Append(RoleName(t.Role)).Append('\n').Append(t.Content).Append("<|im_end|>\n");
                }

                return text.Append("<|im_start|>assistant\n").ToString();
            case PromptFormat.Llama3:
                foreach (var t in turns)
                {
                    text.Append("<|start_header_id|>").Append(RoleName(t.Role)).Append("<|end_header_id|>\n\n").Append(t.Content.Trim()).Append("<|eot_id|>");
                }

                return text.Append("<|start_header_id|>assistant<|end_header_id|>\n\n").ToString();
            case PromptFormat.Phi3:
            case PromptFormat.Zephyr:
                string end = Format == PromptFormat.Phi3 ? "<|end|>\n" : "</s>\n";
                foreach (var t in turns)
                {
                    text.Append("<|").Append(RoleName(t.Role)).Append("|>\n").Append(t.Content).Append(end);
                }

                return text.Append("<|assistant|>\n").ToString();
            case PromptFormat.Gemma:
                return RenderFolded(turns, text, (b, user, content) => b.Append("<start_of_turn>").Append(user ? "user" : "model").Append('\n').Append(content.Trim()).Append("<end_of_turn>\n"))
                    .Append("<start_of_turn>model\n").ToString();
            case PromptFormat.Llama2:
                return RenderFolded(turns, text, (b, user, content) => _ = user ? b.Append("[INST] ").Append(content.Trim()).Append(" [/INST]") : b.Append(' ').Append(content.Trim()).Append("</s>")).ToString();
            default:
                return RenderPlain(turns, text);
        }
    }

    private static string RenderPlain(IReadOnlyList<ChatTurn> turns, StringBuilder text)
    {
        if (turns is [{ Role: ChatRole.User } only])
        {
            return only.Content;
        }

        foreach (var t in turns)
        {
            text.Append(t.Role switch { ChatRole.System => "System: ", ChatRole.User => "User: ", _ => "Assistant: " }).Append(t.Content).Append('\n');
        }

        return text.Append("Assistant:").ToString();
    }

    /// <summary>Families without a system role: system text is prepended to the first user message.</summary>
    private static StringBuilder RenderFolded(IReadOnlyList<ChatTurn> turns, StringBuilder text, Action<StringBuilder, bool, string> append)
    {
        string? system = null;
        foreach (var t in turns)
        {
            if (t.Role == ChatRole.System)
            {
                system = system is null ? t.Content : system + "\n\n" + t.Content;
                continue;
            }

            string content = t.Content;
            if (t.Role == ChatRole.User && system is not null)
            {
                content = system + "\n\n" + content;
                system = null;
            }

            append(text, t.Role == ChatRole.User, content);
        }

        if (system is not null)
        {
            append(text, true, system);
        }

        return text;
    }

    private static string RoleName(ChatRole role) => role switch
    {
        ChatRole.System => "system",
        ChatRole.User => "user",
        _ => "assistant",
    };
}

namespace PoIP.Gateway.Requests;

/// <summary>Which endpoint a request came to.</summary>
internal enum CompletionKind
{
    /// <summary><c>POST /v1/chat/completions</c>.</summary>
    Chat,

    /// <summary><c>POST /v1/completions</c>.</summary>
    Text,
}

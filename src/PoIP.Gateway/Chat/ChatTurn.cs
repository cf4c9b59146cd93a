namespace PoIP.Gateway.Chat;

/// <summary>One chat message: who wrote it and its text.</summary>
internal sealed record ChatTurn(ChatRole Role, string Content);

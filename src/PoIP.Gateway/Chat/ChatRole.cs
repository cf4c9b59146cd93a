namespace PoIP.Gateway.Chat;

/// <summary>A chat message's author (OpenAI's <c>developer</c> is read as <see cref="System"/>).</summary>
internal enum ChatRole
{
    System,
    User,
    Assistant,
}

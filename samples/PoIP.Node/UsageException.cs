namespace PoIP.Node;

/// <summary>Bad input found by a command (an option's value, a file's content): exit code 2, one <c>error:</c> line.</summary>
internal sealed class UsageException(string message, Exception? innerException = null) : Exception(message, innerException);

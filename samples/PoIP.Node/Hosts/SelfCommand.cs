namespace PoIP.Node.Hosts;

/// <summary>How to start this same poip executable again: the process path, plus the entry assembly when that is the <c>dotnet</c> host.</summary>
internal static class SelfCommand
{
    public static (string Program, IReadOnlyList<string> Prefix) Resolve()
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this executable.");
        return string.Equals(Path.GetFileNameWithoutExtension(self), "dotnet", StringComparison.OrdinalIgnoreCase)
            ? (self, [typeof(SelfCommand).Assembly.Location])
            : (self, []);
    }
}

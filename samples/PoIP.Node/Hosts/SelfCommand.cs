using System.Reflection;

namespace PoIP.Node.Hosts;

/// <summary>
/// How to start this same poip executable again: the process path, plus the entry assembly when that is the <c>dotnet</c>
/// host; when poip is a library of another program (a benchmark), <c>dotnet</c> with poip's own assembly.
/// </summary>
internal static class SelfCommand
{
    public static (string Program, IReadOnlyList<string> Prefix) Resolve()
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this executable.");
        bool viaDotnet = string.Equals(Path.GetFileNameWithoutExtension(self), "dotnet", StringComparison.OrdinalIgnoreCase);
        if (!viaDotnet && Assembly.GetEntryAssembly() is { } entry && entry != typeof(SelfCommand).Assembly)
        {
            // The runtime's folder is DOTNET_ROOT/shared/Microsoft.NETCore.App/VERSION/.
            string root = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
            string host = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
            return (File.Exists(host) ? host : "dotnet", [typeof(SelfCommand).Assembly.Location]);
        }

        return viaDotnet ? (self, [typeof(SelfCommand).Assembly.Location]) : (self, []);
    }
}

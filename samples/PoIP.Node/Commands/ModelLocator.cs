using PoIP.Core.Errors;
using PoIP.Inference.Gguf;

namespace PoIP.Node.Commands;

/// <summary>Finds the model the node console uses when none is given.</summary>
internal static class ModelLocator
{
    /// <summary>--model, else POIP_MODEL, else ../shared/models/stories260K.gguf beside the repository root (or the current directory).</summary>
    public static string Resolve(string? explicitPath)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            return Path.GetFullPath(explicitPath);
        }

        string? fromEnvironment = Environment.GetEnvironmentVariable("POIP_MODEL");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return Path.GetFullPath(fromEnvironment);
        }

        return Stories260K() ?? Path.GetFullPath(Path.Combine("..", "shared", "models", "stories260K.gguf"));
    }

    /// <summary>The shared stories260K model beside the repository root, or null.</summary>
    public static string? Stories260K()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "PoIP.sln")))
                {
                    string candidate = Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared", "models", "stories260K.gguf"));
                    if (File.Exists(candidate))
                    {
                        return candidate;
                    }
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Checks that <paramref name="path"/> is a readable GGUF model before anything acts on it (a role
    /// must not mint, stake or create keys for a model it cannot load).
    /// </summary>
    /// <exception cref="UsageException">The file is missing or not a GGUF model; the message names <paramref name="option"/>.</exception>
    public static string RequireGguf(string path, string option)
    {
        if (!File.Exists(path))
        {
            throw new UsageException($"{option}: model file '{path}' not found.");
        }

        try
        {
            using var file = GgufFile.Open(path);
        }
        catch (PoIPDecodeException ex)
        {
            throw new UsageException($"{option}: '{path}' is not a GGUF model: {ex.Message}", ex);
        }

        return path;
    }
}

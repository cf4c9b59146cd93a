namespace PoIP.TestUtils;

/// <summary>Finds the repository root and the shared models beside it.</summary>
public static class RepositoryPaths
{
    /// <summary>The repository root (the folder holding PoIP.sln).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The shared stories260K model, or null when it is not beside the checkout.</summary>
    public static string? Stories260K
    {
        get
        {
            string? fromEnvironment = Environment.GetEnvironmentVariable("POIP_STORIES260K");
            if (!string.IsNullOrEmpty(fromEnvironment) && File.Exists(fromEnvironment))
            {
                return fromEnvironment;
            }

            string candidate = Path.GetFullPath(Path.Combine(Root, "..", "shared", "models", "stories260K.gguf"));
            return File.Exists(candidate) ? candidate : null;
        }
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PoIP.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("PoIP.sln not found above " + AppContext.BaseDirectory);
    }
}

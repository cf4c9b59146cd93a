using PoIP.TestUtils;

namespace PoIP.Inference.Tests.Managed;

internal static class Stories
{
    private const string Sha256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";

    private static readonly Lazy<string> Checked = new(() =>
    {
        string path = RepositoryPaths.Stories260K
            ?? throw new InvalidOperationException("stories260K.gguf not found: put it in ../shared/models or set POIP_STORIES260K.");
        using FileStream stream = File.OpenRead(path);
        string actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
        return actual == Sha256 ? path : throw new InvalidOperationException($"{path} has sha256 {actual}, expected {Sha256}.");
    });

    /// <summary>The shared stories260K model, sha256-checked; fails (never skips) when it is absent or different.</summary>
    public static string Path => Checked.Value;

    public static readonly string[] Prompts =
    [
        "Once upon a time",
        "The little girl",
        "Tom and his dog went to the park.",
        "One day, a big red ball",
        "Lily was sad because",
        "Hello world",
    ];
}

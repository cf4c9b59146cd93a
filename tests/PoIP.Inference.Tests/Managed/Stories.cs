using PoIP.TestUtils;

namespace PoIP.Inference.Tests.Managed;

internal static class Stories
{
    /// <summary>The shared stories260K model; fails (never skips) when it is not beside the checkout.</summary>
    public static string Path => RepositoryPaths.Stories260K
        ?? throw new InvalidOperationException("stories260K.gguf not found: put it in ../shared/models or set POIP_STORIES260K.");

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

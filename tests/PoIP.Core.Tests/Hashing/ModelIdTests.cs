using System.Security.Cryptography;
using PoIP.Core.Hashing;
using PoIP.TestUtils;

namespace PoIP.Core.Tests.Hashing;

public sealed class ModelIdTests
{
    [Fact]
    public async Task FromFileAsync_AnyFile_IsSha256OfBytesWithProgressToTheEnd()
    {
        string path = Path.GetTempFileName();
        try
        {
            byte[] bytes = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
            await File.WriteAllBytesAsync(path, bytes);
            var reports = new List<long>();
            var id = await ModelId.FromFileAsync(path, new SynchronousProgress(reports.Add));
            Assert.Equal(new Sha256Digest(SHA256.HashData(bytes)), id.Digest);
            Assert.Equal(bytes.Length, reports[^1]);
            Assert.True(reports.Count >= 3, "progress is reported per buffer");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task FromFileAsync_SharedStories260K_MatchesPublishedHash()
    {
        string path = RepositoryPaths.Stories260K ?? throw new InvalidOperationException("stories260K.gguf not found beside the checkout (../shared/models); set POIP_STORIES260K.");
        var id = await ModelId.FromFileAsync(path);
        Assert.Equal("270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d", id.ToString());
    }

    [Fact]
    public async Task FromFileAsync_Missing_Throws() =>
        await Assert.ThrowsAsync<FileNotFoundException>(() => ModelId.FromFileAsync(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N") + ".gguf")));

    private sealed class SynchronousProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}

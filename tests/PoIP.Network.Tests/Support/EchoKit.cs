using System.Security.Cryptography;

namespace PoIP.Network.Tests;

/// <summary>
/// The echo protocol and the dial/echo steps that HostTests (C# to C#) and JsInteropTests (C# and js)
/// share; linked into PoIP.Network.IntegrationTests.
/// </summary>
internal static class EchoKit
{
    public const string Echo = "/echo/1.0.0";

    /// <summary>Serves <see cref="Echo"/>: everything read is written back; the peer's half-close ends it.</summary>
    public static void AddEchoHandler(Libp2pHost host) => host.SetHandler(Echo, async (stream, ct) =>
    {
        var buffer = new byte[65536];
        int n;
        while ((n = await stream.ReadAsync(buffer, ct)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, n), ct);
        }

        await stream.CompleteWritingAsync();
    });

    /// <summary>Opens an echo stream, writes <paramref name="bytes"/> random bytes while reading, and asserts they come back.</summary>
    public static async Task EchoOnceAsync(Libp2pConnection connection, int bytes, CancellationToken ct)
    {
        await using var stream = await connection.OpenStreamAsync(Echo, ct);
        var data = RandomNumberGenerator.GetBytes(bytes);
        var reading = Task.Run(async () =>
        {
            var ms = new MemoryStream();
            await stream.CopyToAsync(ms, ct);
            return ms.ToArray();
        }, ct);
        await stream.WriteAsync(data, ct);
        await stream.CompleteWritingAsync();
        Assert.Equal(data, await reading);
    }

    /// <summary>Echoes <paramref name="total"/> random bytes through one stream; returns both SHA-256 hashes and the count received.</summary>
    public static async Task<(string Sent, string Received, long Bytes)> BulkAsync(Libp2pConnection connection, long total, CancellationToken ct)
    {
        await using var stream = await connection.OpenStreamAsync(Echo, ct);
        using var sent = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var got = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long received = 0;
        var reading = Task.Run(async () =>
        {
            var buffer = new byte[256 * 1024];
            int n;
            while ((n = await stream.ReadAsync(buffer, ct)) > 0)
            {
                got.AppendData(buffer, 0, n);
                received += n;
            }
        }, ct);
        var block = RandomNumberGenerator.GetBytes(1024 * 1024);
        for (long offset = 0; offset < total; offset += block.Length)
        {
            int n = (int)Math.Min(block.Length, total - offset);
            sent.AppendData(block, 0, n);
            await stream.WriteAsync(block.AsMemory(0, n), ct);
        }

        await stream.CompleteWritingAsync();
        await reading;
        return (Convert.ToHexStringLower(sent.GetHashAndReset()), Convert.ToHexStringLower(got.GetHashAndReset()), received);
    }
}

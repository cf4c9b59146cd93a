using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using PoIP.Core.Identity;
using PoIP.Network;
using PoIP.Network.Addressing;
using PoIP.Network.Interop;

namespace PoIP.Benchmarks.Network;

/// <summary>
/// Single-stream /perf/1.0.0 upload over loopback TCP (Noise + Yamux), same run: C# to C#, C# to js,
/// js to C# and js to js (js-libp2p 3.3.11), with CPU seconds per GiB (both ends), managed
/// allocations per Yamux frame in the C# to C# steady state, the machine's raw single-thread
/// ChaCha20-Poly1305 speed (64 KiB messages), and what loopback allows without libp2p
/// (<see cref="LoopbackFloor"/>: plain TCP, and TCP carrying Noise-sized AEAD frames).
/// usage: p2p [MiB, default 1024] [cs: C# to C# and ChaCha only] [nofloor: skip the loopback floor,
/// e.g. when counting the process's syscalls with perf stat]
/// </summary>
internal sealed class P2pBenchmark : IMacroBenchmark
{
    public string Name => "p2p";

    public string Description => "libp2p single-stream throughput over loopback: C#<->C#, C#<->js, js<->js, raw ChaCha20-Poly1305";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        long mib = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 1024;
        long bytes = mib << 20;
        string root = FindRoot();

        double chacha = MeasureChaCha(Math.Min(bytes, 1L << 30));

        // C# to C#
        var (csGbit, csCpu, allocPerFrame) = await CSharpToCSharpAsync(bytes, cancellationToken);
        var floor = new Dictionary<string, object>();
        if (!args.Contains("nofloor"))
        {
            var (tcp, tcpAead, aeadCpu) = await LoopbackFloor.MeasureAsync(bytes, cancellationToken);
            floor = new Dictionary<string, object>
            {
                ["tcp_gbit_s"] = BenchOutput.Round(tcp.Gbit),
                ["tcp_cpu_s_per_gib"] = BenchOutput.Round(tcp.CpuPerGib),
                ["tcp_aead_gbit_s"] = BenchOutput.Round(tcpAead.Gbit),
                ["tcp_aead_cpu_s_per_gib"] = BenchOutput.Round(tcpAead.CpuPerGib),
                ["aead_enc_dec_cpu_s_per_gib"] = BenchOutput.Round(aeadCpu),
                ["tcp_aead_vs_chacha_ratio"] = BenchOutput.Round(tcpAead.Gbit / chacha),
                ["cs_vs_tcp_aead_ratio"] = BenchOutput.Round(csGbit / tcpAead.Gbit),
            };
        }

        if (args.Length > 1 && args[1] == "cs")
        {
            BenchOutput.Print(With(floor, new Dictionary<string, object>
            {
                ["name"] = "p2p-cs",
                ["bytes"] = bytes,
                ["cs_to_cs_gbit_s"] = BenchOutput.Round(csGbit),
                ["cs_to_cs_cpu_s_per_gib"] = BenchOutput.Round(csCpu),
                ["chacha20poly1305_gbit_s"] = BenchOutput.Round(chacha),
                ["cs_vs_chacha_ratio"] = BenchOutput.Round(csGbit / chacha),
                ["alloc_bytes_per_frame"] = BenchOutput.Round(allocPerFrame, 1),
            }));
            return 0;
        }

        // with js
        await JsPeer.EnsureInstalledAsync(root, cancellationToken);
        double csToJs, csToJsCpu, jsToCs, jsToCsCpu, jsToJs, jsToJsCpu;
        await using (var js = await JsPeer.StartAsync(root, string.Empty, cancellationToken))
        {
            (csToJs, csToJsCpu) = await CSharpToJsAsync(js, bytes, cancellationToken);
            (jsToCs, jsToCsCpu) = await JsToCSharpAsync(js, bytes, cancellationToken);
            await using var js2 = await JsPeer.StartAsync(root, string.Empty, cancellationToken);
            (jsToJs, jsToJsCpu) = await JsToJsAsync(js2, js, bytes, cancellationToken);
        }

        BenchOutput.Print(With(floor, new Dictionary<string, object>
        {
            ["name"] = "p2p",
            ["bytes"] = bytes,
            ["cs_to_cs_gbit_s"] = BenchOutput.Round(csGbit),
            ["cs_to_cs_cpu_s_per_gib"] = BenchOutput.Round(csCpu),
            ["cs_to_js_gbit_s"] = BenchOutput.Round(csToJs),
            ["cs_to_js_cpu_s_per_gib"] = BenchOutput.Round(csToJsCpu),
            ["js_to_cs_gbit_s"] = BenchOutput.Round(jsToCs),
            ["js_to_cs_cpu_s_per_gib"] = BenchOutput.Round(jsToCsCpu),
            ["js_to_js_gbit_s"] = BenchOutput.Round(jsToJs),
            ["js_to_js_cpu_s_per_gib"] = BenchOutput.Round(jsToJsCpu),
            ["chacha20poly1305_gbit_s"] = BenchOutput.Round(chacha),
            ["cs_vs_js_ratio"] = BenchOutput.Round(csGbit / jsToJs),
            ["cs_vs_chacha_ratio"] = BenchOutput.Round(csGbit / chacha),
            ["alloc_bytes_per_frame"] = BenchOutput.Round(allocPerFrame, 1),
        }));
        return 0;
    }

    private static Dictionary<string, object> With(Dictionary<string, object> extra, Dictionary<string, object> figures)
    {
        foreach (var (name, value) in extra)
        {
            figures[name] = value;
        }

        return figures;
    }

    private static double MeasureChaCha(long total)
    {
        using var aead = new ChaCha20Poly1305(RandomNumberGenerator.GetBytes(32));
        var plain = new byte[65519];
        var cipher = new byte[65519];
        var tag = new byte[16];
        var nonce = new byte[12];
        for (int i = 0; i < 200; i++)
        {
            aead.Encrypt(nonce, plain, cipher, tag);
        }

        var sw = Stopwatch.StartNew();
        long done = 0;
        ulong n = 0;
        while (done < total)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(nonce.AsSpan(4), n++);
            aead.Encrypt(nonce, plain, cipher, tag);
            done += plain.Length;
        }

        return done * 8 / sw.Elapsed.TotalSeconds / 1e9;
    }

    private static Libp2pHostOptions Options(Ed25519KeyPair key, bool listen)
    {
        var options = new Libp2pHostOptions { Key = key, IdentifyOnConnect = false };
        options.Yamux.MaxStreamWindow = 16 * 1024 * 1024;
        options.Yamux.KeepAliveInterval = TimeSpan.Zero;
        if (listen)
        {
            options.ListenAddresses.Add(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        }

        return options;
    }

    private static async Task<(double Gbit, double CpuPerGib, double AllocPerFrame)> CSharpToCSharpAsync(long bytes, CancellationToken ct)
    {
        using var ks = Ed25519KeyPair.Generate();
        using var kc = Ed25519KeyPair.Generate();
        await using var server = Libp2pHost.Create(Options(ks, listen: true));
        await using var client = Libp2pHost.Create(Options(kc, listen: false));
        await server.StartAsync(ct);
        await client.StartAsync(ct);
        var connection = await client.DialAsync(server.ListenAddresses[0], ct);

        // Warm up: JIT tiers, async-builder pools, and the receive segment pool, filled up front to a
        // 16 MiB window's worth (it otherwise grows to the deepest receive queue seen, which under load
        // takes several GiB to reach and would count as allocation here).
        PoIP.Network.Internal.SegmentPool.Prewarm(300);
        await connection.PerfAsync(256L << 20, 0, ct);

        var process = Process.GetCurrentProcess();
        GC.Collect();
        long alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        process.Refresh();
        var cpu0 = process.TotalProcessorTime;
        var result = await connection.PerfAsync(bytes, 0, ct);
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpu0;
        long alloc = GC.GetTotalAllocatedBytes(precise: true) - alloc0;
        double frames = 2.0 * Math.Ceiling(bytes / (double)PoIP.Network.Yamux.YamuxSession.MaxFrameData); // each frame is written by one side and read by the other
        return (Gbit(bytes, result.TotalTime), cpu.TotalSeconds / (bytes / (double)(1L << 30)), alloc / frames);
    }

    private static async Task<(double Gbit, double CpuPerGib)> CSharpToJsAsync(JsPeer js, long bytes, CancellationToken ct)
    {
        using var kc = Ed25519KeyPair.Generate();
        await using var client = Libp2pHost.Create(Options(kc, listen: false));
        await client.StartAsync(ct);
        var connection = await client.DialAsync(Multiaddr.Parse(js.Address), ct);
        await connection.PerfAsync(64L << 20, 0, ct);
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu0 = process.TotalProcessorTime + js.CpuTime;
        var result = await connection.PerfAsync(bytes, 0, ct);
        process.Refresh();
        var cpu = process.TotalProcessorTime + js.CpuTime - cpu0;
        await connection.CloseAsync(ct);
        return (Gbit(bytes, result.TotalTime), cpu.TotalSeconds / (bytes / (double)(1L << 30)));
    }

    private static async Task<(double Gbit, double CpuPerGib)> JsToCSharpAsync(JsPeer js, long bytes, CancellationToken ct)
    {
        using var ks = Ed25519KeyPair.Generate();
        await using var server = Libp2pHost.Create(Options(ks, listen: true));
        await server.StartAsync(ct);
        string address = server.ListenAddresses[0].ToString();
        await js.CommandAsync($"perf {address} {64L << 20} 0", ct);
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu0 = process.TotalProcessorTime + js.CpuTime;
        var answer = await js.CommandAsync($"perf {address} {bytes} 0", ct);
        process.Refresh();
        var cpu = process.TotalProcessorTime + js.CpuTime - cpu0;
        double seconds = answer.GetProperty("seconds").GetDouble();
        return (bytes * 8 / seconds / 1e9, cpu.TotalSeconds / (bytes / (double)(1L << 30)));
    }

    private static async Task<(double Gbit, double CpuPerGib)> JsToJsAsync(JsPeer client, JsPeer server, long bytes, CancellationToken ct)
    {
        await client.CommandAsync($"perf {server.Address} {64L << 20} 0", ct);
        var cpu0 = client.CpuTime + server.CpuTime;
        var answer = await client.CommandAsync($"perf {server.Address} {bytes} 0", ct);
        var cpu = client.CpuTime + server.CpuTime - cpu0;
        double seconds = answer.GetProperty("seconds").GetDouble();
        return (bytes * 8 / seconds / 1e9, cpu.TotalSeconds / (bytes / (double)(1L << 30)));
    }

    private static double Gbit(long bytes, TimeSpan time) => bytes * 8 / time.TotalSeconds / 1e9;

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "PoIP.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("PoIP.sln not found");
    }
}

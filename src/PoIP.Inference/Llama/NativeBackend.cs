using System.Runtime.InteropServices;
using LLama.Native;
using PoIP.Core.Errors;

namespace PoIP.Inference.Llama;

/// <summary>Facts about the llama.cpp native library loaded in this process.</summary>
/// <param name="Build">llama.cpp commit bound by LLamaSharp.</param>
/// <param name="Backend">"cpu", "cuda" or "vulkan".</param>
/// <param name="CpuVariant">"avx512", "avx2", "avx", "noavx".</param>
/// <param name="SystemInfo">llama.cpp's own system-info line (features it was built with and sees).</param>
/// <param name="Devices">ggml backend devices, e.g. <c>CPU</c>, <c>CUDA0</c>.</param>
public sealed record NativeLibraryInfo(string Build, string Backend, string CpuVariant, string SystemInfo, IReadOnlyList<string> Devices)
{
    /// <summary>
    /// The source commit the loaded binaries report (<c>ggml_commit()</c> of libggml-base), checked at load
    /// to be <see cref="NativeBackend.NativeCommit"/>, the one known to belong to <see cref="Build"/>.
    /// </summary>
    public string NativeCommit { get; init; } = string.Empty;
}

/// <summary>
/// Loads llama.cpp once per process (LLamaSharp picks the file; the CPU variant can be forced),
/// routes its log to a quiet in-memory sink, and turns load failures into a clear
/// <see cref="EngineException"/> naming the library and the reason, never an access violation.
/// </summary>
public static partial class NativeBackend
{
    /// <summary>
    /// The build name every engine identity records: the llama.cpp commit LLamaSharp 0.30.0 names in its
    /// nuspec. Its binaries were compiled from <see cref="NativeCommit"/>; the load checks that pairing.
    /// </summary>
    public const string LlamaCppBuild = "c0c7e147";

    /// <summary>
    /// What <c>ggml_commit()</c> of LLamaSharp 0.30.0's native libraries returns: the llama.cpp commit
    /// (tag b10221) its build workflow checked out and compiled, and so the code that runs. A library that
    /// reports another commit is another build than <see cref="LlamaCppBuild"/> names, and is refused.
    /// </summary>
    public const string NativeCommit = "815a2a591";

    private static readonly Lock Gate = new();
    private static NativeLibraryInfo? s_info;

    [ThreadStatic]
    private static string? t_lastError;

    private static List<string>? s_loadLog;
    private static string? s_llamaPath;
    private static nint s_llamaHandle;

    static NativeBackend()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeBackend).Assembly, Resolve);
    }

    /// <summary>The library name of this assembly's own llama.cpp imports, resolved to the file LLamaSharp loaded.</summary>
    internal const string LlamaLibraryName = "poip-llama";

    /// <summary>The library name of this assembly's ggml-base imports, resolved beside the libllama LLamaSharp loaded.</summary>
    internal const string GgmlBaseLibraryName = "poip-ggml-base";

    /// <summary>The loaded library, or null before the first engine starts.</summary>
    public static NativeLibraryInfo? Loaded => s_info;

    /// <summary>Loads (once) the native library in the asked variant and describes it.</summary>
    /// <exception cref="EngineException"><see cref="EngineErrorCodes.NativeLoadFailed"/> or <see cref="EngineErrorCodes.NativeVariantMismatch"/>.</exception>
    public static NativeLibraryInfo EnsureLoaded(LlamaCpuVariant variant)
    {
        lock (Gate)
        {
            if (s_info is null)
            {
                if (!NativeLibraryConfig.LLama.LibraryHasLoaded)
                {
                    NativeLibraryConfig.All.WithLogCallback(OnLog);
                    if (variant != LlamaCpuVariant.Auto)
                    {
                        NativeLibraryConfig.All.WithAvx(ToAvx(variant));
                    }
                }

                s_info = Load();
            }

            string wanted = VariantName(variant);
            if (variant != LlamaCpuVariant.Auto && s_info.Backend == "cpu" && s_info.CpuVariant != wanted)
            {
                throw new EngineException(
                    EngineErrorCodes.NativeVariantMismatch,
                    $"llama.cpp is already loaded in this process as the {s_info.CpuVariant} variant; {wanted} was asked for. The variant is process-wide: start a new process.",
                    isFatal: true);
            }

            return s_info;
        }
    }

    /// <summary>The variant's name as used in the engine identity.</summary>
    public static string VariantName(LlamaCpuVariant variant) => variant switch
    {
        LlamaCpuVariant.Avx512 => "avx512",
        LlamaCpuVariant.Avx2 => "avx2",
        LlamaCpuVariant.Avx => "avx",
        LlamaCpuVariant.NoAvx => "noavx",
        _ => "auto",
    };

    /// <summary>
    /// Describes a loaded library after checking that the commit its binaries report is the one known to
    /// belong to <see cref="LlamaCppBuild"/>: every receipt records that build, known answers and the
    /// verifier's exact-replay rule are keyed by it, so another binary under the same name must not serve.
    /// </summary>
    /// <exception cref="EngineException"><see cref="EngineErrorCodes.NativeBuildMismatch"/>.</exception>
    internal static NativeLibraryInfo Describe(string? reportedCommit, string backend, string cpuVariant, string systemInfo, IReadOnlyList<string> devices)
    {
        if (reportedCommit != NativeCommit)
        {
            throw new EngineException(
                EngineErrorCodes.NativeBuildMismatch,
                $"the loaded llama.cpp native library ({backend}) reports build '{reportedCommit ?? "(none)"}'; LLamaSharp 0.30.0's build {LlamaCppBuild} reports '{NativeCommit}'. "
                + "Reference LLamaSharp.Backend.Cpu (or .Cuda12) 0.30.0, the version this SDK binds, and no other llama.cpp library.",
                isFatal: true);
        }

        return new NativeLibraryInfo(LlamaCppBuild, backend, cpuVariant, systemInfo, devices) { NativeCommit = reportedCommit };
    }

    /// <summary>Takes (and clears) the last error llama.cpp logged on this thread.</summary>
    internal static string? TakeLastError()
    {
        string? error = t_lastError;
        t_lastError = null;
        return error;
    }

    private static void OnLog(LLamaLogLevel level, string message)
    {
        const string loaded = "Successfully loaded '";
        if (s_llamaPath is null && message.StartsWith(loaded, StringComparison.Ordinal))
        {
            string path = message[loaded.Length..].TrimEnd().TrimEnd('\'');
            string file = Path.GetFileName(path);
            if (file is "libllama.so" or "llama.dll" or "libllama.dylib")
            {
                s_llamaPath = path;
            }
        }

        var loadLog = s_loadLog;
        if (loadLog is not null && loadLog.Count < 200)
        {
            loadLog.Add(message.TrimEnd());
        }

        if (level == LLamaLogLevel.Error)
        {
            t_lastError = message.Trim();
        }
    }

    private static nint Resolve(string name, System.Reflection.Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name == GgmlBaseLibraryName)
        {
            return ResolveGgmlBase();
        }

        if (name != LlamaLibraryName)
        {
            return 0;
        }

        if (s_llamaHandle != 0)
        {
            return s_llamaHandle;
        }

        // The same file LLamaSharp loaded (dlopen/LoadLibrary return the already-loaded module), else by soname.
        nint handle = 0;
        if (s_llamaPath is not null)
        {
            NativeLibrary.TryLoad(s_llamaPath, out handle);
        }

        if (handle == 0)
        {
            string file = OperatingSystem.IsWindows() ? "llama.dll" : OperatingSystem.IsMacOS() ? "libllama.dylib" : "libllama.so";
            NativeLibrary.TryLoad(file, out handle);
        }

        s_llamaHandle = handle;
        return handle;
    }

    /// <summary>libggml-base from the folder of the libllama LLamaSharp loaded (its dependency, so already loaded), else by name.</summary>
    private static nint ResolveGgmlBase()
    {
        string file = OperatingSystem.IsWindows() ? "ggml-base.dll" : OperatingSystem.IsMacOS() ? "libggml-base.dylib" : "libggml-base.so";
        nint handle = 0;
        if (s_llamaPath is not null && Path.GetDirectoryName(s_llamaPath) is { } directory)
        {
            NativeLibrary.TryLoad(Path.Combine(directory, file), out handle);
        }

        if (handle == 0)
        {
            NativeLibrary.TryLoad(file, out handle);
        }

        return handle;
    }

    [LibraryImport(GgmlBaseLibraryName, EntryPoint = "ggml_commit")]
    private static partial nint GgmlCommit();

    private static AvxLevel ToAvx(LlamaCpuVariant variant) => variant switch
    {
        LlamaCpuVariant.Avx512 => AvxLevel.Avx512,
        LlamaCpuVariant.Avx2 => AvxLevel.Avx2,
        LlamaCpuVariant.Avx => AvxLevel.Avx,
        _ => AvxLevel.None,
    };

    private static NativeLibraryInfo Load()
    {
        s_loadLog = [];
        try
        {
            NativeApi.llama_empty_call();
            var library = NativeApi.GetLoadedNativeLibrary(NativeLibraryName.LLama);
            var metadata = library?.Metadata;
            string backend = metadata is null ? "cpu" : metadata.UseCuda ? "cuda" : metadata.UseVulkan ? "vulkan" : "cpu";
            string cpu = metadata is null ? "unknown" : metadata.AvxLevel switch
            {
                AvxLevel.Avx512 => "avx512",
                AvxLevel.Avx2 => "avx2",
                AvxLevel.Avx => "avx",
                _ => "noavx",
            };
            string systemInfo = Marshal.PtrToStringUTF8(NativeApi.llama_print_system_info())?.Trim() ?? string.Empty;
            var devices = new List<string>();
            nuint count = NativeApi.ggml_backend_dev_count();
            for (nuint i = 0; i < count && i < 64; i++)
            {
                nint device = NativeApi.ggml_backend_dev_get(i);
                devices.Add(Marshal.PtrToStringUTF8(NativeApi.ggml_backend_dev_name(device)) ?? "?");
            }

            return Describe(Marshal.PtrToStringUTF8(GgmlCommit())?.Trim(), backend, cpu, systemInfo, devices);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or TypeInitializationException or LLama.Exceptions.RuntimeError)
        {
            Exception root = ex is TypeInitializationException { InnerException: { } inner } ? inner : ex;
            string tried = string.Join(" | ", (s_loadLog ?? []).Where(l => l.Contains("path", StringComparison.OrdinalIgnoreCase) || l.Contains("fail", StringComparison.OrdinalIgnoreCase) || l.Contains("load", StringComparison.OrdinalIgnoreCase)).TakeLast(6));
            throw new EngineException(
                EngineErrorCodes.NativeLoadFailed,
                $"could not load the llama.cpp native library (libllama from the LLamaSharp backend package, build {LlamaCppBuild}): {root.GetType().Name}: {root.Message} "
                + (tried.Length > 0 ? $"Loader log: {tried}. " : string.Empty)
                + "Reference LLamaSharp.Backend.Cpu (or .Cuda12) 0.30.0 in the application and check that its runtimes folder was copied next to the program.",
                isFatal: true,
                ex);
        }
        finally
        {
            s_loadLog = null;
        }
    }
}

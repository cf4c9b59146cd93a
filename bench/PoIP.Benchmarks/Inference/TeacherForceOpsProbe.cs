using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LLama.Native;
using PoIP.Inference.Llama;

namespace PoIP.Benchmarks.Inference;

/// <summary>
/// Diagnostic: which llama.cpp graph node first differs between decoding and a teacher-forced prefill.
/// Computes position <c>--position P</c> twice, through llama.cpp's eval callback (every node observed):
/// (a) as decoding does (the prompt in one batch, then one token per decode up to P) and (b) in one
/// batch of positions 0..P whose last row is the output; then compares, node by node in graph order,
/// the row of position P (attention-score tensors over their first P + 1 key columns). Prints the
/// first differing nodes and one <c>BENCH</c> line. Slow (the callback splits the graph per node); a
/// diagnosis tool, not a speed figure.
/// Usage: <c>teacherforce-ops [--model model.gguf] [--position P] [--repack on|off] [--fa on|off] [--kv f16|f32] [--threads N] [--show N]</c>.
/// </summary>
internal sealed unsafe class TeacherForceOpsProbe : IMacroBenchmark
{
    private static List<Node>? s_capture;
    private static bool s_layoutError;

    public string Name => "teacherforce-ops";

    public string Description => "diagnosis: first llama.cpp graph node where a teacher-forced prefill differs from decoding";

    public Task<int> RunAsync(string[] args, CancellationToken cancellationToken) => Task.FromResult(Run(args));

    private static int Run(string[] args)
    {
        string? model = null;
        int position = 40, threads = 1, show = 12;
        bool repack = true, flash = false;
        var kv = GGMLType.GGML_TYPE_F16;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--model": model = args[++i]; break;
                case "--position": position = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--show": show = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--repack": repack = args[++i] != "off"; break;
                case "--fa": flash = args[++i] == "on"; break;
                case "--kv": kv = args[++i] == "f32" ? GGMLType.GGML_TYPE_F32 : GGMLType.GGML_TYPE_F16; break;
                default: model = args[i]; break;
            }
        }

        model ??= EngineBenchmarkPaths.Stories260K();
        if (model is null || !File.Exists(model))
        {
            Console.Error.WriteLine("model not found: pass a GGUF path.");
            return 2;
        }

        NativeBackend.EnsureLoaded(LlamaCpuVariant.Auto);
        var modelParams = LLamaModelParams.Default();
        modelParams.use_extra_bufts = repack;
        using var handle = SafeLlamaModelHandle.LoadFromFile(model, modelParams);
        var contextParams = LLamaContextParams.Default();
        contextParams.n_ctx = (uint)Math.Max(256, position + 64);
        contextParams.n_batch = contextParams.n_ubatch = 512;
        contextParams.n_seq_max = 1;
        contextParams.n_threads = contextParams.n_threads_batch = threads;
        contextParams.embeddings = true;
        contextParams.llama_pooling_type = LLamaPoolingType.None;
        contextParams.llama_flash_attn_type = flash ? LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_ENABLED : LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_DISABLED;
        contextParams.type_k = contextParams.type_v = kv;
        contextParams.cb_eval = (nint)(delegate* unmanaged[Cdecl]<nint, byte, nint, byte>)&Observe;
        using var context = SafeLLamaContextHandle.Create(handle, contextParams);
        Ggml.Bind();

        var prompt = handle.Tokenize("Once upon a time, there was a little girl who", true, false, System.Text.Encoding.UTF8);
        var tokens = new int[position + 1];
        int vocabulary = handle.Vocab.Count;
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = i < prompt.Length ? (int)prompt[i] : 100 + (i * 7919 % Math.Max(1, vocabulary - 200));
        }

        int promptCount = Math.Min(prompt.Length, position);
        var batch = new NativeBatch(512);

        // (a) decoding: the prompt in one batch, then one token per step; observe the step of `position`.
        context.MemoryClear(true);
        batch.Clear();
        for (int p = 0; p < promptCount; p++)
        {
            batch.Add(tokens[p], p, p == promptCount - 1);
        }

        Check(batch.Decode(context, false));
        for (int p = promptCount; p <= position; p++)
        {
            batch.Clear();
            batch.Add(tokens[p], p, true);
            if (p == position)
            {
                s_capture = [];
            }

            Check(batch.Decode(context, false));
        }

        var decoded = s_capture!;

        // (b) one batch of positions 0..position, output at the last only.
        context.MemoryClear(true);
        batch.Clear();
        for (int p = 0; p <= position; p++)
        {
            batch.Add(tokens[p], p, p == position);
        }

        s_capture = [];
        Check(batch.Decode(context, false));
        var forced = s_capture;
        s_capture = null;

        if (s_layoutError)
        {
            Console.Error.WriteLine("ggml_tensor layout is not the one this probe reads (ne at offset 16).");
            return 1;
        }

        var byName = new Dictionary<string, Queue<Node>>(StringComparer.Ordinal);
        foreach (var node in forced)
        {
            if (!byName.TryGetValue(node.Name, out var queue))
            {
                byName[node.Name] = queue = new Queue<Node>();
            }

            queue.Enqueue(node);
        }

        int compared = 0, differing = 0, shown = 0;
        string? first = null;
        foreach (var a in decoded)
        {
            if (!byName.TryGetValue(a.Name, out var queue) || queue.Count == 0)
            {
                continue;
            }

            var b = queue.Dequeue();
            var (count, total, maxAbs) = CompareLastRow(a, b, position);
            if (total == 0)
            {
                continue;
            }

            compared++;
            if (count > 0)
            {
                differing++;
                first ??= $"{a.Name} ({a.Op})";
                if (shown++ < show)
                {
                    Console.WriteLine($"differs: {a.Name,-24} op {a.Op,-12} decode ne [{string.Join(",", a.Ne)}] prefill ne [{string.Join(",", b.Ne)}]: {count}/{total} elements, max |Δ| {maxAbs:G4}");
                }
            }
            else if (first is null)
            {
                Console.WriteLine($"exact:   {a.Name,-24} op {a.Op,-12} decode ne [{string.Join(",", a.Ne)}] prefill ne [{string.Join(",", b.Ne)}]");
            }
        }

        BenchOutput.Print(new Dictionary<string, object>
        {
            ["name"] = "teacherforce-ops",
            ["model"] = Path.GetFileName(model),
            ["position"] = position,
            ["weight_repacking"] = repack,
            ["flash_attention"] = flash,
            ["kv"] = kv == GGMLType.GGML_TYPE_F32 ? "f32" : "f16",
            ["nodes_compared"] = compared,
            ["nodes_differing"] = differing,
            ["first_differing_node"] = first ?? "none",
        });
        return 0;
    }

    private static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama_decode: {result}");
        }
    }

    /// <summary>Compares the last token row of two captures (dim 1 = tokens); over the first position + 1 columns when dim 0 differs (attention scores over the KV cells).</summary>
    private static (int Count, int Total, double MaxAbs) CompareLastRow(Node a, Node b, int position)
    {
        if (a.Ne[2] != b.Ne[2] || a.Ne[3] != b.Ne[3])
        {
            return (0, 0, 0);
        }

        long columns = a.Ne[0] == b.Ne[0] ? a.Ne[0] : Math.Min(Math.Min(a.Ne[0], b.Ne[0]), position + 1);
        int count = 0, total = 0;
        double maxAbs = 0;
        for (long i3 = 0; i3 < a.Ne[3]; i3++)
        {
            for (long i2 = 0; i2 < a.Ne[2]; i2++)
            {
                for (long i0 = 0; i0 < columns; i0++)
                {
                    float x = a.At(i0, a.Ne[1] - 1, i2, i3), y = b.At(i0, b.Ne[1] - 1, i2, i3);
                    total++;
                    if (BitConverter.SingleToInt32Bits(x) != BitConverter.SingleToInt32Bits(y))
                    {
                        count++;
                        maxAbs = Math.Max(maxAbs, Math.Abs(x - (double)y));
                    }
                }
            }
        }

        return (count, total, maxAbs);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static byte Observe(nint tensor, byte ask, nint userData)
    {
        var capture = s_capture;
        if (capture is null)
        {
            return 0;
        }

        if (ask != 0)
        {
            return 1;
        }

        int type = *(int*)tensor;
        if (type is not (0 or 1))
        {
            return 1;
        }

        long* ne = (long*)(tensor + 16);
        nuint* nb = (nuint*)(tensor + 48);
        long elements = ne[0] * ne[1] * ne[2] * ne[3];
        if (elements != Ggml.Elements(tensor))
        {
            s_layoutError = true; // never throw across the native frame
            return 0;
        }

        nuint bytes = Ggml.Bytes(tensor);
        var data = new byte[(int)bytes];
        fixed (byte* d = data)
        {
            Ggml.Get(tensor, d, 0, bytes);
        }

        capture.Add(new Node(
            Marshal.PtrToStringUTF8(Ggml.Name(tensor)) ?? "?",
            Marshal.PtrToStringUTF8(Ggml.OpDesc(tensor)) ?? "?",
            type,
            [ne[0], ne[1], ne[2], ne[3]],
            [(long)nb[0], (long)nb[1], (long)nb[2], (long)nb[3]],
            data));
        return 1;
    }

    private sealed record Node(string Name, string Op, int Type, long[] Ne, long[] Nb, byte[] Data)
    {
        public float At(long i0, long i1, long i2, long i3)
        {
            long offset = (i0 * Nb[0]) + (i1 * Nb[1]) + (i2 * Nb[2]) + (i3 * Nb[3]);
            return Type == 0 ? BitConverter.ToSingle(Data, (int)offset) : (float)BitConverter.ToHalf(Data, (int)offset);
        }
    }

    /// <summary>ggml functions from the libggml-base that LLamaSharp loaded (found in the process's mappings).</summary>
    private static class Ggml
    {
        private static delegate* unmanaged[Cdecl]<nint, long> s_elements;
        private static delegate* unmanaged[Cdecl]<nint, nuint> s_bytes;
        private static delegate* unmanaged[Cdecl]<nint, nint> s_name;
        private static delegate* unmanaged[Cdecl]<nint, nint> s_opDesc;
        private static delegate* unmanaged[Cdecl]<nint, void*, nuint, nuint, void> s_get;

        public static void Bind()
        {
            string path = File.ReadLines("/proc/self/maps").Select(l => l[(l.IndexOf('/', StringComparison.Ordinal) is var at and >= 0 ? at : l.Length)..]).First(p => p.EndsWith("/libggml-base.so", StringComparison.Ordinal));
            nint library = NativeLibrary.Load(path);
            s_elements = (delegate* unmanaged[Cdecl]<nint, long>)NativeLibrary.GetExport(library, "ggml_nelements");
            s_bytes = (delegate* unmanaged[Cdecl]<nint, nuint>)NativeLibrary.GetExport(library, "ggml_nbytes");
            s_name = (delegate* unmanaged[Cdecl]<nint, nint>)NativeLibrary.GetExport(library, "ggml_get_name");
            s_opDesc = (delegate* unmanaged[Cdecl]<nint, nint>)NativeLibrary.GetExport(library, "ggml_op_desc");
            s_get = (delegate* unmanaged[Cdecl]<nint, void*, nuint, nuint, void>)NativeLibrary.GetExport(library, "ggml_backend_tensor_get");
        }

        public static long Elements(nint t) => s_elements(t);

        public static nuint Bytes(nint t) => s_bytes(t);

        public static nint Name(nint t) => s_name(t);

        public static nint OpDesc(nint t) => s_opDesc(t);

        public static void Get(nint t, void* destination, nuint offset, nuint size) => s_get(t, destination, offset, size);
    }
}

using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using LLama.Native;

namespace PoIP.Inference.Llama;

/// <summary>
/// A llama_batch over pinned arrays allocated once, decoded with a direct call to <c>llama_decode</c>.
/// LLamaSharp's <c>Decode(LLamaBatch)</c> allocates ~12 KB of pins per call and serialises every
/// decode in the process behind one global lock (a CUDA workaround); this keeps the hot loop
/// allocation-free and lets CPU sequences run in parallel (GPU backends still take one lock).
/// </summary>
internal sealed unsafe partial class NativeBatch
{
    private static readonly Lock GpuLock = new();
    private readonly int[] _tokens;
    private readonly int[] _positions;
    private readonly int[] _sequenceCounts;
    private readonly nint[] _sequencePointers;
    private readonly int[] _sequenceZero;
    private readonly byte[] _logits;

    public NativeBatch(int capacity)
    {
        Capacity = capacity;
        _tokens = GC.AllocateArray<int>(capacity, pinned: true);
        _positions = GC.AllocateArray<int>(capacity, pinned: true);
        _sequenceCounts = GC.AllocateArray<int>(capacity, pinned: true);
        _sequencePointers = GC.AllocateArray<nint>(capacity, pinned: true);
        _sequenceZero = GC.AllocateArray<int>(1, pinned: true);
        _logits = GC.AllocateArray<byte>(capacity, pinned: true);
        nint zero = (nint)Unsafe.AsPointer(ref _sequenceZero[0]);
        for (int i = 0; i < capacity; i++)
        {
            _sequenceCounts[i] = 1;
            _sequencePointers[i] = zero;
        }
    }

    public int Capacity { get; }

    public int Count { get; private set; }

    public void Clear() => Count = 0;

    /// <summary>Adds a token of sequence 0; returns its index in the batch.</summary>
    public int Add(int token, int position, bool logits)
    {
        if (Count >= Capacity)
        {
            throw new InvalidOperationException("batch is full.");
        }

        _tokens[Count] = token;
        _positions[Count] = position;
        _logits[Count] = logits ? (byte)1 : (byte)0;
        return Count++;
    }

    public DecodeResult Decode(SafeLLamaContextHandle context, bool serialise)
    {
        var batch = new Native
        {
            NTokens = Count,
            Tokens = (int*)Unsafe.AsPointer(ref _tokens[0]),
            Embeddings = null,
            Positions = (int*)Unsafe.AsPointer(ref _positions[0]),
            SequenceCounts = (int*)Unsafe.AsPointer(ref _sequenceCounts[0]),
            Sequences = (int**)Unsafe.AsPointer(ref _sequencePointers[0]),
            Logits = (byte*)Unsafe.AsPointer(ref _logits[0]),
        };

        bool added = false;
        try
        {
            context.DangerousAddRef(ref added);
            if (serialise)
            {
                lock (GpuLock)
                {
                    return (DecodeResult)LlamaDecode(context.DangerousGetHandle(), batch);
                }
            }

            return (DecodeResult)LlamaDecode(context.DangerousGetHandle(), batch);
        }
        finally
        {
            if (added)
            {
                context.DangerousRelease();
            }
        }
    }

    [LibraryImport(NativeBackend.LlamaLibraryName, EntryPoint = "llama_decode")]
    private static partial int LlamaDecode(nint context, Native batch);

    /// <summary>llama_batch as laid out by llama.h (c0c7e147).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Native
    {
        public int NTokens;
        public int* Tokens;
        public float* Embeddings;
        public int* Positions;
        public int* SequenceCounts;
        public int** Sequences;
        public byte* Logits;
    }
}

namespace PoIP.Inference.Gguf;

/// <summary>One tensor described by a GGUF header.</summary>
/// <param name="Name">Tensor name, e.g. <c>blk.0.attn_q.weight</c>.</param>
/// <param name="Dimensions">Dimensions, innermost (contiguous) first, as GGUF stores them.</param>
/// <param name="Type">Element type.</param>
/// <param name="Offset">Offset of the data relative to the start of the data section.</param>
/// <param name="ByteSize">Size of the data in bytes.</param>
public sealed record GgufTensorInfo(string Name, IReadOnlyList<long> Dimensions, GgufTensorType Type, long Offset, long ByteSize)
{
    /// <summary>Number of elements (product of the dimensions).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (long dimension in Dimensions)
            {
                count *= dimension;
            }

            return count;
        }
    }
}

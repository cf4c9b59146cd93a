using System.Runtime.InteropServices;
using LLama.Native;
using PoIP.Inference.Llama;

namespace PoIP.Inference.Tests.Llama;

public sealed class NativeBatchTests
{
    [Fact]
    public void Layout_MatchesLlamaBatchOfPinnedBuild()
    {
        // llama.h (c0c7e147): int32 n_tokens; token*; float* embd; pos*; int32* n_seq_id; seq_id**; int8* logits.
        Assert.Equal(Marshal.SizeOf<LLamaNativeBatch>(), Marshal.SizeOf<NativeBatch.Native>());
        Assert.Equal(8 + (6 * IntPtr.Size), Marshal.SizeOf<NativeBatch.Native>());
        string[] ours = ["NTokens", "Tokens", "Embeddings", "Positions", "SequenceCounts", "Sequences", "Logits"];
        string[] theirs = ["n_tokens", "tokens", "embd", "pos", "n_seq_id", "seq_id", "logits"];
        for (int i = 0; i < ours.Length; i++)
        {
            Assert.Equal(Marshal.OffsetOf<LLamaNativeBatch>(theirs[i]), Marshal.OffsetOf<NativeBatch.Native>(ours[i]));
        }
    }

    [Fact]
    public void Add_PastCapacity_Throws()
    {
        var batch = new NativeBatch(2);
        Assert.Equal(0, batch.Add(1, 0, false));
        Assert.Equal(1, batch.Add(2, 1, true));
        Assert.Throws<InvalidOperationException>(() => batch.Add(3, 2, true));
        batch.Clear();
        Assert.Equal(0, batch.Count);
    }
}

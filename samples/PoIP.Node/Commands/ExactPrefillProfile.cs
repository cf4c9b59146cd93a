using PoIP.Inference.Llama;

namespace PoIP.Node.Commands;

/// <summary>
/// The llama.cpp settings of <c>--exact-prefill</c> (node run, validator run, generate): weight repacking off, flash
/// attention on, micro-batch 32, so that on K-quant models a teacher-forced prefill computes decoding's numbers bit for
/// bit and a validator settles a receipt with one prefill (docs/proofs.md 9b).
/// </summary>
internal static class ExactPrefillProfile
{
    public static void Apply(LlamaEngineOptions options)
    {
        options.WeightRepacking = false;
        options.FlashAttention = true;
        options.MicroBatchSize = 32;
    }
}

using PoIP.Core.Engine;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;

namespace PoIP.Inference.Verification;

/// <summary>
/// Termination honesty, judged without logits (the sampling check then proves that a claimed EOS
/// was sampled): the output never runs past an EOS or a stop sequence, and ends exactly where the
/// claimed reason says: EOS as the last token; a stop sequence completed by the last token; exactly
/// the request's token limit; or a full context. Output tokens must be in the vocabulary.
/// </summary>
internal static class TerminationChecker
{
    public static VerificationResult? Check(IInferenceEngine engine, InferenceRequest request, InferenceReceipt receipt, int promptTokens, int[] output, int contextLength)
    {
        int n = output.Length;
        int eos = engine.Model.EndOfSequenceToken;
        int vocabulary = engine.Model.VocabularySize;
        for (int i = 0; i < n; i++)
        {
            if ((uint)output[i] >= (uint)vocabulary)
            {
                return VerificationResult.Fraud(FraudReason.SamplingMismatch, i, $"token {output[i]} is outside the vocabulary.");
            }

            if (output[i] == eos && i < n - 1)
            {
                return VerificationResult.Fraud(FraudReason.TerminationMismatch, i, "the output continues past an end-of-sequence token.");
            }
        }

        if (n > request.MaxTokens)
        {
            return VerificationResult.Fraud(FraudReason.TerminationMismatch, request.MaxTokens, $"{n} tokens exceed the limit of {request.MaxTokens}.");
        }

        var stops = request.Sampling.StopSequences;
        if (stops.Count > 0 && n > 1)
        {
            int earliest = EarliestStop(engine, output, stops);
            if (earliest >= 0 && earliest < n - 1)
            {
                return VerificationResult.Fraud(FraudReason.TerminationMismatch, earliest, "the output continues past a stop sequence.");
            }
        }

        bool lastIsEos = n > 0 && output[n - 1] == eos;
        switch (receipt.StopReason)
        {
            case StopReason.EndOfSequence when lastIsEos:
                return null;
            case StopReason.EndOfSequence:
                return Fail(n, "end of sequence claimed but the last token is not EOS.");
            case StopReason.StopSequence when !lastIsEos && n > 0 && ContainsStop(engine.Detokenize(output), stops):
                return null;
            case StopReason.StopSequence:
                return Fail(n, "stop sequence claimed but the output does not end with one.");
            case StopReason.MaxTokens when !lastIsEos && n == request.MaxTokens:
                return null;
            case StopReason.MaxTokens:
                return Fail(n, $"token limit claimed with {n} of {request.MaxTokens} tokens.");
            case StopReason.ContextFull when !lastIsEos && promptTokens + n >= contextLength:
                return null;
            case StopReason.ContextFull:
                return Fail(n, $"full context claimed at {promptTokens + n} of {contextLength} positions.");
            default:
                return Fail(n, "no stop reason given.");
        }
    }

    private static VerificationResult Fail(int n, string detail) => VerificationResult.Fraud(FraudReason.TerminationMismatch, Math.Max(0, n - 1), detail);

    private static bool ContainsStop(string text, IReadOnlyList<string> stops)
    {
        foreach (string stop in stops)
        {
            if (text.Contains(stop, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    // Smallest i such that the text of output[0..i] contains a stop sequence, or -1 (binary search:
    // containment is monotone in the prefix length).
    private static int EarliestStop(IInferenceEngine engine, int[] output, IReadOnlyList<string> stops)
    {
        if (!ContainsStop(engine.Detokenize(output), stops))
        {
            return -1;
        }

        int lo = 0, hi = output.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (ContainsStop(engine.Detokenize(new ArraySegment<int>(output, 0, mid + 1)), stops))
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return lo;
    }
}

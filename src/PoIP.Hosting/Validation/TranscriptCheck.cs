using PoIP.Core.Errors;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Merkle;
using PoIP.Core.Protocol;
using PoIP.Network.AuditProtocol;

namespace PoIP.Hosting.Validation;

/// <summary>
/// Checks a fetched transcript before anything uses it: it must be the very receipt drawn from the DHT, signed by
/// the node it names; the request it answers, signed by its client; the prompt, the one the client's signed input
/// root commits to; the tokens, the ones the node's signed output root and count commit to. Then every byte the
/// audit re-executes is bound by one of the two parties' signatures, whoever sent it.
/// </summary>
internal static class TranscriptCheck
{
    /// <summary>Null when the transcript may be audited; otherwise why not.</summary>
    public static string? Refusal(AuditSubmission transcript, ReceiptId drawn, PeerId node, int maxPromptBytes)
    {
        if (transcript.Prompt.Length > maxPromptBytes || transcript.OutputTokens.Count > InferenceRequest.MaxOutputTokens)
        {
            return "oversize prompt or token list";
        }

        if (Sha256Digest.Compute(transcript.ReceiptEnvelope.Span) != drawn.Digest)
        {
            return "not the receipt drawn";
        }

        SignedMessage<InferenceRequest> request;
        SignedMessage<InferenceReceipt> receipt;
        try
        {
            request = SignedMessage.Open<InferenceRequest>(transcript.RequestEnvelope);
            receipt = SignedMessage.Open<InferenceReceipt>(transcript.ReceiptEnvelope);
        }
        catch (PoIPException ex) when (ex is PoIPDecodeException or SignatureException)
        {
            return "bad envelope: " + ex.Message;
        }

        if (receipt.Signer != node || receipt.Message.NodeId != node)
        {
            return "the receipt is not the node's";
        }

        if (request.Signer != request.Message.ClientId || receipt.Message.RequestId.Digest != request.Hash)
        {
            return "the receipt does not answer this client-signed request";
        }

        if (!request.Message.MatchesInput(transcript.Prompt.Span))
        {
            return "the prompt is not the one the client signed";
        }

        if (transcript.OutputTokens.Count != receipt.Message.OutputTokenCount || MerkleTree.FromTokens([.. transcript.OutputTokens]).Root != receipt.Message.OutputRoot)
        {
            return "the tokens are not the ones the node's receipt commits to";
        }

        return null;
    }
}

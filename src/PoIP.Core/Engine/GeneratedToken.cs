namespace PoIP.Core.Engine;

/// <summary>
/// One generated token. The last token of a generation carries the <see cref="Stop"/> reason;
/// when the reason is <see cref="StopReason.EndOfSequence"/> that last token is the EOS token
/// itself, so the output (and its commitment) proves the termination.
/// </summary>
/// <param name="Index">Zero-based position in the output.</param>
/// <param name="TokenId">The token id.</param>
/// <param name="Piece">The token's text (may be a partial UTF-8 sequence rendered as empty).</param>
/// <param name="Stop">Why generation ended after this token, or <see cref="StopReason.None"/>.</param>
public readonly record struct GeneratedToken(int Index, int TokenId, string Piece, StopReason Stop);

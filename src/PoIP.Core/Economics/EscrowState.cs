namespace PoIP.Core.Economics;

/// <summary>Where an escrow stands.</summary>
public enum EscrowState
{
    /// <summary>The price cap is locked.</summary>
    Open = 1,

    /// <summary>The node was paid and the client got the rest back.</summary>
    Settled = 2,

    /// <summary>The whole cap went back to the client.</summary>
    Refunded = 3,
}

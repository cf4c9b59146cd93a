namespace PoIP.Economics.Embedded.Operations;

/// <summary>Journal tag of each operation type (stored; never renumber).</summary>
internal enum OperationKind
{
    Genesis = 1,
    CreateAccount = 2,
    Mint = 3,
    Transfer = 4,
    Withdraw = 5,
    Stake = 6,
    RequestUnbond = 7,
    WithdrawUnbonded = 8,
    RegisterValidator = 9,
    OpenEscrow = 10,
    /// <summary>Before receipts were required (journal replay only).</summary>
    SettleEscrow = 11,
    RefundEscrow = 12,
    Slash = 13,
    Propose = 14,
    Vote = 15,
    ExecuteProposal = 16,
    SettleEscrowWithReceipt = 17,
    SubmitVerdict = 18,
    Appeal = 19,
    FinalizeCase = 20,
    CommitPlant = 21,
    RevealPlant = 22,

    /// <summary>An escrow that joins the group of an earlier escrow of the same request (a hedge or retry).</summary>
    OpenEscrowInGroup = 23,
}

using PoIP.Core.Hashing;
using PoIP.Core.Protocol;

namespace PoIP.Core.Ledger;

/// <summary>
/// The transaction layer: signed transaction records keyed by request id. Contract: every record is
/// signature-checked before it is stored or returned; records are never modified; two different
/// records from one signer for one request are reported as a conflict with equivocation evidence.
/// </summary>
public interface ITransactionLedger
{
    /// <summary>Stores a record.</summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    Task<LedgerPutResult> PutAsync(SignedMessage<TransactionRecord> record, CancellationToken cancellationToken = default);

    /// <summary>All valid records stored for a request (empty when none).</summary>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    Task<IReadOnlyList<SignedMessage<TransactionRecord>>> GetAsync(RequestId requestId, CancellationToken cancellationToken = default);
}

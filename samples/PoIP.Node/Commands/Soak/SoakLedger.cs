using Microsoft.Data.Sqlite;
using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Core.Identity;
using PoIP.Economics.Embedded;
using PoIP.Economics.Parameters;
using PoIP.Inference.Verification;

namespace PoIP.Node.Commands.Soak;

/// <summary>
/// What the ledger says after the soak. <paramref name="JournalMatches"/>: the SQLite journal replays to its tables (shared
/// ledger; null on a chain). <paramref name="ContractHoldsSupply"/>: the contract's coin equals its supply, and
/// <paramref name="BalancesMatch"/>: every node's balance grew by exactly what its answers earned, <paramref name="EscrowedAtEnd"/>: the
/// chain's escrowed total at the end (chain; null on the shared ledger).
/// </summary>
internal sealed record SoakLedgerResult(
    int Escrows,
    int SettledByNodes,
    int SettledAtEnd,
    int RefundedAtEnd,
    int Settled,
    int Refunded,
    int OpenAtEnd,
    int AnsweredNotPaid,
    int PaidNotAnswered,
    int DuplicateAnswers,
    bool Conserved,
    bool? JournalMatches,
    bool? ContractHoldsSupply = null,
    bool? BalancesMatch = null,
    TokenAmount? EscrowedAtEnd = null,
    int GroupsPaidTwice = 0,
    int PaidThroughOtherAttempt = 0);

/// <summary>
/// The soak's money checks on the shared SQLite ledger: every answered request paid exactly once (one escrow of its group settled), no
/// escrow left open, money conserved and the journal replaying to the tables. The nodes settle their receipts once the
/// dispute window has passed; at the end this settles what the window had not yet released (with the gateway's receipts,
/// the same idempotent operation the node uses) and refunds abandoned escrows (failed attempts), on a clock moved forward.
/// </summary>
internal static class SoakLedger
{
    public static readonly EconomicParameters Parameters = EconomicParameters.Default with { DisputeWindow = TimeSpan.FromMinutes(1), MinimumStake = TokenAmount.FromTokens(100) };

    public static void CreateGenesis(string path)
    {
        using (EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = path, InitialParameters = Parameters }))
        {
            // genesis written once, before any role process opens the file
        }
    }

    /// <summary>
    /// While every role still runs: the receipts of answered requests whose escrow is still open, read from the gateway
    /// (<c>/v1/receipts/{id}</c>). The gateway keeps the newest 10,000 receipts; an open escrow whose receipt it no longer
    /// holds is older than that, so its node must settle it: this waits for the nodes (at most the dispute window plus
    /// <see cref="NodeClaimSlack"/>) and returns how many were settled by the nodes and how long that took.
    /// </summary>
    public static async Task<(List<ReceiptFile> Pending, int SettledByNodes, int WaitedFor, TimeSpan Waited)> CollectPendingAsync(string path, IReadOnlyList<SoakAnswer> answers, HttpClient http, Uri api, CancellationToken cancellationToken)
    {
        var pending = new List<ReceiptFile>();
        var evicted = new List<RequestId>();
        int settled = 0;
        using var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = path });
        foreach (var answer in answers)
        {
            var id = new RequestId(Sha256Digest.ParseHex(answer.RequestId));
            var escrow = await ledger.GetEscrowAsync(id, cancellationToken);
            if (escrow is { State: EscrowState.Settled })
            {
                settled++;
            }
            else if (escrow is { State: EscrowState.Open })
            {
                using var response = await http.GetAsync(new Uri(api, "v1/receipts/" + answer.ReceiptId), cancellationToken);
                if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
                {
                    evicted.Add(id);
                    continue;
                }

                response.EnsureSuccessStatusCode();
                pending.Add(ReceiptFile.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken)));
            }
        }

        long started = TimeProvider.System.GetTimestamp();
        while (evicted.Count > 0 && TimeProvider.System.GetElapsedTime(started) < Parameters.DisputeWindow + NodeClaimSlack)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            var still = new List<RequestId>();
            foreach (var id in evicted)
            {
                if ((await ledger.GetEscrowAsync(id, cancellationToken)) is { State: EscrowState.Open })
                {
                    still.Add(id);
                }
            }

            settled += evicted.Count - still.Count;
            evicted = still;
        }

        int waitedFor = evicted.Count;
        return (pending, settled, waitedFor, TimeProvider.System.GetElapsedTime(started));
    }

    /// <summary>How long past the dispute window the soak waits for the nodes to settle escrows whose receipts the gateway dropped.</summary>
    public static readonly TimeSpan NodeClaimSlack = TimeSpan.FromMinutes(2);

    /// <summary>After every role stopped: settle the pending receipts, refund abandoned escrows, then check.</summary>
    public static async Task<SoakLedgerResult> CloseAndCheckAsync(string path, IReadOnlyList<SoakAnswer> answers, IReadOnlyList<ReceiptFile> pending, int settledByNodes, CancellationToken cancellationToken)
    {
        var clock = new ForwardClock();
        using var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = path, TimeProvider = clock });
        clock.Advance(Parameters.DisputeWindow + TimeSpan.FromSeconds(1));
        int settledAtEnd = 0;
        foreach (var receipt in pending)
        {
            settledAtEnd += (await ledger.SettleEscrowAsync(OperationId.Derive("escrow-settle", receipt.Request.Hash.ToArray()), receipt.Request, receipt.Receipt, cancellationToken)).IsApplied ? 1 : 0;
        }

        clock.Advance(Parameters.DisputeWindow);
        int refundedAtEnd = 0;
        foreach (var (request, _, state) in Escrows(path))
        {
            if (state == EscrowState.Open)
            {
                refundedAtEnd += (await ledger.RefundEscrowAsync(OperationId.Derive("escrow-refund-abandoned", request.Digest.ToArray()), request, cancellationToken)).IsApplied ? 1 : 0;
            }
        }

        var escrows = Escrows(path);
        var answered = answers.Select(a => a.RequestId).ToHashSet(StringComparer.Ordinal);
        var payments = SoakPayments.Count([.. escrows.Select(e => new SoakEscrow(e.Request.ToString(), e.Group.ToString(), e.State == EscrowState.Settled))], answered);
        var totals = await ledger.GetTotalsAsync(cancellationToken);
        var journal = await ledger.VerifyJournalAsync(cancellationToken);
        return new SoakLedgerResult(
            escrows.Count,
            settledByNodes,
            settledAtEnd,
            refundedAtEnd,
            escrows.Count(e => e.State == EscrowState.Settled),
            escrows.Count(e => e.State == EscrowState.Refunded),
            escrows.Count(e => e.State == EscrowState.Open),
            payments.AnsweredNotPaid,
            payments.PaidNotAnswered,
            answers.Count - answered.Count,
            totals.IsConserved,
            journal.Matches,
            GroupsPaidTwice: payments.GroupsPaidTwice,
            PaidThroughOtherAttempt: payments.PaidThroughOtherAttempt);
    }

    /// <summary>Every escrow in the ledger file with its group (itself when alone) and state (read-only; the ledger has no listing call).</summary>
    private static List<(RequestId Request, RequestId Group, EscrowState State)> Escrows(string path)
    {
        var result = new List<(RequestId, RequestId, EscrowState)>();
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT e.request, COALESCE(g.grp, e.request), e.state FROM escrows e LEFT JOIN escrow_groups g ON g.request = e.request ORDER BY e.request";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            result.Add((new RequestId(new Sha256Digest((byte[])reader.GetValue(0))), new RequestId(new Sha256Digest((byte[])reader.GetValue(1))), (EscrowState)reader.GetInt64(2)));
        }

        return result;
    }

    /// <summary>The system clock moved forward: settles and refunds past the dispute window without waiting for it.</summary>
    private sealed class ForwardClock : TimeProvider
    {
        private TimeSpan _offset;

        public void Advance(TimeSpan by) => _offset += by;

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + _offset;
    }
}

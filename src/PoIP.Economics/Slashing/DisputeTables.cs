using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Proofs;
using PoIP.Economics.Embedded;

namespace PoIP.Economics.Slashing;

/// <summary>One stored case row.</summary>
internal sealed record CaseRow(ReceiptId Receipt, PeerId Accused, RequestId Request, PeerId Opener, DisputeState State, long OpenedMs, long DecidedMs, long AppealedMs, long PlantedMs, byte[] Seed);

/// <summary>One counted verdict: round 0 is the first round (the planter's revealed plant included), round 1 the appeal panel.</summary>
internal sealed record VoteRow(PeerId Validator, int Round, VerdictOutcome Outcome, Sha256Digest VerdictHash, long IssuedMs);

/// <summary>Typed reads and writes of the case, verdict, panel and plant tables.</summary>
internal static class DisputeTables
{
    public static CaseRow? Case(LedgerTransaction ledger, ReceiptId receipt)
    {
        using var r = ledger.Sql.Query(
            "SELECT accused, request, opener, state, opened_ms, decided_ms, appealed_ms, planted_ms, seed FROM cases WHERE receipt = $p0",
            receipt.Digest.ToArray());
        return r.Read()
            ? new CaseRow(receipt, Blob.ToPeer(r.GetValue(0)), Blob.ToRequest(r.GetValue(1)), Blob.ToPeer(r.GetValue(2)), (DisputeState)r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6), r.GetInt64(7), (byte[])r.GetValue(8))
            : null;
    }

    public static void Insert(LedgerTransaction ledger, ReceiptId receipt, PeerId accused, RequestId request, PeerId opener) =>
        ledger.Sql.Exec(
            "INSERT INTO cases(receipt, accused, request, opener, state, opened_ms, decided_ms, appealed_ms, planted_ms, seed) VALUES ($p0, $p1, $p2, $p3, $p4, $p5, 0, 0, 0, $p6)",
            receipt.Digest.ToArray(), Blob.Of(accused), Blob.Of(request), Blob.Of(opener), (long)DisputeState.Open, ledger.NowMs, Array.Empty<byte>());

    public static void SetState(LedgerTransaction ledger, ReceiptId receipt, DisputeState state) =>
        ledger.Sql.Exec("UPDATE cases SET state = $p1 WHERE receipt = $p0", receipt.Digest.ToArray(), (long)state);

    public static void SetConvicted(LedgerTransaction ledger, ReceiptId receipt, byte[] seed) =>
        ledger.Sql.Exec("UPDATE cases SET state = $p1, decided_ms = $p2, seed = $p3 WHERE receipt = $p0", receipt.Digest.ToArray(), (long)DisputeState.Convicted, ledger.NowMs, seed);

    public static void SetAppealed(LedgerTransaction ledger, ReceiptId receipt) =>
        ledger.Sql.Exec("UPDATE cases SET state = $p1, appealed_ms = $p2 WHERE receipt = $p0", receipt.Digest.ToArray(), (long)DisputeState.Appealed, ledger.NowMs);

    public static void SetPlanted(LedgerTransaction ledger, ReceiptId receipt, long committedMs) =>
        ledger.Sql.Exec("UPDATE cases SET planted_ms = $p1 WHERE receipt = $p0", receipt.Digest.ToArray(), committedMs);

    /// <summary>Whether a case on a receipt of <paramref name="request"/> by <paramref name="node"/> is still undecided or waiting for its appeal.</summary>
    public static bool Pending(LedgerTransaction ledger, RequestId request, PeerId node) =>
        ledger.Sql.Scalar(
            "SELECT 1 FROM cases WHERE request = $p0 AND accused = $p1 AND state IN ($p2, $p3, $p4)",
            Blob.Of(request), Blob.Of(node), (long)DisputeState.Open, (long)DisputeState.Convicted, (long)DisputeState.Appealed) is not null;

    public static List<VoteRow> Votes(LedgerTransaction ledger, ReceiptId receipt)
    {
        var votes = new List<VoteRow>();
        using var r = ledger.Sql.Query("SELECT validator, round, outcome, verdict_hash, issued_ms FROM case_verdicts WHERE receipt = $p0 ORDER BY round, seq", receipt.Digest.ToArray());
        while (r.Read())
        {
            votes.Add(new VoteRow(Blob.ToPeer(r.GetValue(0)), (int)r.GetInt64(1), (VerdictOutcome)r.GetInt64(2), new Sha256Digest((byte[])r.GetValue(3)), r.GetInt64(4)));
        }

        return votes;
    }

    public static bool VerdictCounted(LedgerTransaction ledger, Sha256Digest verdictHash) =>
        ledger.Sql.Scalar("SELECT 1 FROM case_verdicts WHERE verdict_hash = $p0", verdictHash.ToArray()) is not null;

    public static void AddVote(LedgerTransaction ledger, ReceiptId receipt, PeerId validator, int round, VerdictOutcome outcome, Sha256Digest verdictHash, long issuedMs)
    {
        long seq = ledger.Sql.Scalar("SELECT COUNT(*) FROM case_verdicts WHERE receipt = $p0", receipt.Digest.ToArray()) is long n ? n : 0;
        ledger.Sql.Exec(
            "INSERT INTO case_verdicts(receipt, validator, round, outcome, verdict_hash, issued_ms, seq) VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6)",
            receipt.Digest.ToArray(), Blob.Of(validator), (long)round, (long)outcome, verdictHash.ToArray(), issuedMs, seq);
    }

    public static List<PeerId> Panel(LedgerTransaction ledger, ReceiptId receipt)
    {
        var panel = new List<PeerId>();
        using var r = ledger.Sql.Query("SELECT validator FROM case_panel WHERE receipt = $p0 ORDER BY validator", receipt.Digest.ToArray());
        while (r.Read())
        {
            panel.Add(Blob.ToPeer(r.GetValue(0)));
        }

        return panel;
    }

    public static void AddPanelist(LedgerTransaction ledger, ReceiptId receipt, PeerId validator) =>
        ledger.Sql.Exec("INSERT INTO case_panel(receipt, validator) VALUES ($p0, $p1)", receipt.Digest.ToArray(), Blob.Of(validator));

    public static (PeerId Planter, long CommittedMs, bool Revealed)? Plant(LedgerTransaction ledger, Sha256Digest commitment)
    {
        using var r = ledger.Sql.Query("SELECT planter, committed_ms, receipt FROM plants WHERE commitment = $p0", commitment.ToArray());
        return r.Read() ? (Blob.ToPeer(r.GetValue(0)), r.GetInt64(1), ((byte[])r.GetValue(2)).Length != 0) : null;
    }

    public static void AddPlant(LedgerTransaction ledger, Sha256Digest commitment, PeerId planter) =>
        ledger.Sql.Exec("INSERT INTO plants(commitment, planter, committed_ms, receipt) VALUES ($p0, $p1, $p2, $p3)", commitment.ToArray(), Blob.Of(planter), ledger.NowMs, Array.Empty<byte>());

    public static void RevealPlant(LedgerTransaction ledger, Sha256Digest commitment, ReceiptId receipt) =>
        ledger.Sql.Exec("UPDATE plants SET receipt = $p1 WHERE commitment = $p0", commitment.ToArray(), receipt.Digest.ToArray());
}

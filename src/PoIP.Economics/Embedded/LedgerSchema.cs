namespace PoIP.Economics.Embedded;

/// <summary>The embedded ledger's tables. Every state table is rebuilt bit-for-bit by replaying <c>journal</c>.</summary>
internal static class LedgerSchema
{
    /// <summary>Tables compared by the journal replay check, with their ordering columns.</summary>
    public static readonly (string Table, string OrderBy)[] StateTables =
    [
        ("settings", "name"),
        ("parameters", "id"),
        ("totals", "name"),
        ("accounts", "id"),
        ("stakes", "node"),
        ("unbonding", "id"),
        ("validators", "id"),
        ("escrows", "request"),
        ("escrow_groups", "request"),
        ("used_evidence", "evidence_key"),
        ("proposals", "id"),
        ("votes", "proposal, voter"),
        ("cases", "receipt"),
        ("case_verdicts", "receipt, round, seq"),
        ("case_panel", "receipt, validator"),
        ("plants", "commitment"),
    ];

    public const string Create = """
        CREATE TABLE IF NOT EXISTS journal (
            seq INTEGER PRIMARY KEY,
            op_id BLOB NOT NULL UNIQUE,
            kind INTEGER NOT NULL,
            at_ms INTEGER NOT NULL,
            args BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS parameters (id INTEGER PRIMARY KEY, value BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS totals (name TEXT PRIMARY KEY, amount BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS accounts (id BLOB PRIMARY KEY, balance BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS stakes (node BLOB PRIMARY KEY, bonded BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS unbonding (
            id INTEGER PRIMARY KEY,
            node BLOB NOT NULL,
            amount BLOB NOT NULL,
            release_ms INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS unbonding_node ON unbonding(node);
        CREATE TABLE IF NOT EXISTS validators (id BLOB PRIMARY KEY, since_ms INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS escrows (
            request BLOB PRIMARY KEY,
            client BLOB NOT NULL,
            node BLOB NOT NULL,
            cap BLOB NOT NULL,
            opened_ms INTEGER NOT NULL,
            state INTEGER NOT NULL,
            price BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS escrow_groups (
            request BLOB PRIMARY KEY,
            grp BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS escrow_groups_grp ON escrow_groups(grp);
        CREATE TABLE IF NOT EXISTS used_evidence (
            evidence_key BLOB PRIMARY KEY,
            kind INTEGER NOT NULL,
            accused BLOB NOT NULL,
            request BLOB NOT NULL,
            slashed BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS used_evidence_request ON used_evidence(request, accused);
        CREATE TABLE IF NOT EXISTS proposals (
            id BLOB PRIMARY KEY,
            kind INTEGER NOT NULL,
            proposer BLOB NOT NULL,
            parameter INTEGER NOT NULL,
            value BLOB NOT NULL,
            recipient BLOB NOT NULL,
            created_ms INTEGER NOT NULL,
            voting_ends_ms INTEGER NOT NULL,
            executable_ms INTEGER NOT NULL,
            quorum_base BLOB NOT NULL,
            yes BLOB NOT NULL,
            no BLOB NOT NULL,
            state INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS votes (
            proposal BLOB NOT NULL,
            voter BLOB NOT NULL,
            weight BLOB NOT NULL,
            support INTEGER NOT NULL,
            PRIMARY KEY (proposal, voter));
        CREATE TABLE IF NOT EXISTS cases (
            receipt BLOB PRIMARY KEY,
            accused BLOB NOT NULL,
            request BLOB NOT NULL,
            opener BLOB NOT NULL,
            state INTEGER NOT NULL,
            opened_ms INTEGER NOT NULL,
            decided_ms INTEGER NOT NULL,
            appealed_ms INTEGER NOT NULL,
            planted_ms INTEGER NOT NULL,
            seed BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS cases_request ON cases(request, accused);
        CREATE TABLE IF NOT EXISTS case_verdicts (
            receipt BLOB NOT NULL,
            validator BLOB NOT NULL,
            round INTEGER NOT NULL,
            outcome INTEGER NOT NULL,
            verdict_hash BLOB NOT NULL UNIQUE,
            issued_ms INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (receipt, validator, round));
        CREATE TABLE IF NOT EXISTS case_panel (
            receipt BLOB NOT NULL,
            validator BLOB NOT NULL,
            PRIMARY KEY (receipt, validator));
        CREATE TABLE IF NOT EXISTS plants (
            commitment BLOB PRIMARY KEY,
            planter BLOB NOT NULL,
            committed_ms INTEGER NOT NULL,
            receipt BLOB NOT NULL);
        """;
}

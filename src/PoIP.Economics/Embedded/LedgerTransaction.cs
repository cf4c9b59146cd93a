using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Governance;
using PoIP.Economics.Parameters;

namespace PoIP.Economics.Embedded;

/// <summary>
/// One SQLite transaction seen as ledger state: typed reads and writes of accounts, stakes,
/// escrows, evidence, validators and totals. Operations apply through it; it never commits.
/// </summary>
internal sealed class LedgerTransaction
{
    public const string Supply = "supply";
    public const string Fund = "fund";
    public const string Burned = "burned";

    private readonly SqlCommands _sql;

    public LedgerTransaction(SqlCommands sql, OperationId operation, long nowMs)
    {
        _sql = sql;
        Operation = operation;
        NowMs = nowMs;
    }

    /// <summary>The operation being applied.</summary>
    public OperationId Operation { get; }

    /// <summary>The operation's time (recorded in the journal, reused on replay).</summary>
    public long NowMs { get; }

    public SqlCommands Sql => _sql;

    // ---- settings and parameters ----
    public long Setting(string name) => _sql.Scalar("SELECT value FROM settings WHERE name = $p0", name) is long v ? v : 0;

    public void SetSetting(string name, long value) =>
        _sql.Exec("INSERT INTO settings(name, value) VALUES ($p0, $p1) ON CONFLICT(name) DO UPDATE SET value = excluded.value", name, value);

    public UInt128 Parameter(EconomicParameter parameter) =>
        _sql.Scalar("SELECT value FROM parameters WHERE id = $p0", (long)parameter) is { } v ? Blob.ToUInt128(v) : throw new InvalidDataException($"Parameter {parameter} is not set.");

    public ulong ParameterU64(EconomicParameter parameter) => (ulong)Parameter(parameter);

    public long ParameterMs(EconomicParameter parameter) => checked((long)ParameterU64(parameter) * 1000);

    public Dictionary<EconomicParameter, UInt128> Parameters()
    {
        var values = new Dictionary<EconomicParameter, UInt128>();
        using var reader = _sql.Query("SELECT id, value FROM parameters");
        while (reader.Read())
        {
            values[(EconomicParameter)reader.GetInt64(0)] = Blob.ToUInt128(reader.GetValue(1));
        }

        return values;
    }

    public void SetParameter(EconomicParameter parameter, UInt128 value) =>
        _sql.Exec("INSERT INTO parameters(id, value) VALUES ($p0, $p1) ON CONFLICT(id) DO UPDATE SET value = excluded.value", (long)parameter, Blob.Of(value));

    // ---- totals ----
    public TokenAmount Total(string name) => _sql.Scalar("SELECT amount FROM totals WHERE name = $p0", name) is { } v ? Blob.ToAmount(v) : TokenAmount.Zero;

    public void SetTotal(string name, TokenAmount amount) =>
        _sql.Exec("INSERT INTO totals(name, amount) VALUES ($p0, $p1) ON CONFLICT(name) DO UPDATE SET amount = excluded.amount", name, Blob.Of(amount));

    public void AddTotal(string name, TokenAmount amount) => SetTotal(name, Total(name) + amount);

    // ---- accounts ----
    public TokenAmount? Balance(PeerId account) =>
        _sql.Scalar("SELECT balance FROM accounts WHERE id = $p0", Blob.Of(account)) is { } v ? Blob.ToAmount(v) : null;

    public void SetBalance(PeerId account, TokenAmount balance) =>
        _sql.Exec("INSERT INTO accounts(id, balance) VALUES ($p0, $p1) ON CONFLICT(id) DO UPDATE SET balance = excluded.balance", Blob.Of(account), Blob.Of(balance));

    /// <summary>Adds to an existing account's balance (checked).</summary>
    public void Credit(PeerId account, TokenAmount amount) =>
        SetBalance(account, (Balance(account) ?? throw new InvalidOperationException("Credit to an unknown account.")) + amount);

    // ---- stake ----
    public TokenAmount Bonded(PeerId node) =>
        _sql.Scalar("SELECT bonded FROM stakes WHERE node = $p0", Blob.Of(node)) is { } v ? Blob.ToAmount(v) : TokenAmount.Zero;

    public void SetBonded(PeerId node, TokenAmount bonded) =>
        _sql.Exec("INSERT INTO stakes(node, bonded) VALUES ($p0, $p1) ON CONFLICT(node) DO UPDATE SET bonded = excluded.bonded", Blob.Of(node), Blob.Of(bonded));

    public List<UnbondingEntry> Unbonding(PeerId node)
    {
        var entries = new List<UnbondingEntry>();
        using var reader = _sql.Query("SELECT id, amount, release_ms FROM unbonding WHERE node = $p0 ORDER BY id", Blob.Of(node));
        while (reader.Read())
        {
            entries.Add(new UnbondingEntry(reader.GetInt64(0), Blob.ToAmount(reader.GetValue(1)), reader.GetInt64(2)));
        }

        return entries;
    }

    public void AddUnbonding(PeerId node, TokenAmount amount, long releaseMs) =>
        _sql.Exec("INSERT INTO unbonding(node, amount, release_ms) VALUES ($p0, $p1, $p2)", Blob.Of(node), Blob.Of(amount), releaseMs);

    public void SetUnbonding(long id, TokenAmount amount)
    {
        if (amount.IsZero)
        {
            _sql.Exec("DELETE FROM unbonding WHERE id = $p0", id);
        }
        else
        {
            _sql.Exec("UPDATE unbonding SET amount = $p1 WHERE id = $p0", id, Blob.Of(amount));
        }
    }

    // ---- validators ----
    public bool IsValidator(PeerId peer) => _sql.Scalar("SELECT 1 FROM validators WHERE id = $p0", Blob.Of(peer)) is not null;

    public void AddValidator(PeerId peer) => _sql.Exec("INSERT INTO validators(id, since_ms) VALUES ($p0, $p1)", Blob.Of(peer), NowMs);

    public void RemoveValidator(PeerId peer) => _sql.Exec("DELETE FROM validators WHERE id = $p0", Blob.Of(peer));

    public List<PeerId> Validators()
    {
        var validators = new List<PeerId>();
        using var reader = _sql.Query("SELECT id FROM validators ORDER BY id");
        while (reader.Read())
        {
            validators.Add(Blob.ToPeer(reader.GetValue(0)));
        }

        return validators;
    }

    // ---- escrows ----
    public EscrowInfo? Escrow(RequestId request)
    {
        using var reader = _sql.Query(
            "SELECT e.client, e.node, e.cap, e.opened_ms, e.state, e.price, g.grp FROM escrows e LEFT JOIN escrow_groups g ON g.request = e.request WHERE e.request = $p0",
            Blob.Of(request));
        return reader.Read()
            ? new EscrowInfo(
                request,
                Blob.ToPeer(reader.GetValue(0)),
                Blob.ToPeer(reader.GetValue(1)),
                Blob.ToAmount(reader.GetValue(2)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                (EscrowState)reader.GetInt64(4),
                Blob.ToAmount(reader.GetValue(5)))
            {
                Group = reader.IsDBNull(6) ? null : Blob.ToRequest(reader.GetValue(6)),
            }
            : null;
    }

    /// <summary>Records that <paramref name="request"/>'s escrow joined the group of <paramref name="group"/> (its first escrow).</summary>
    public void JoinEscrowGroup(RequestId request, RequestId group) =>
        _sql.Exec("INSERT INTO escrow_groups(request, grp) VALUES ($p0, $p1)", Blob.Of(request), Blob.Of(group));

    /// <summary>Whether an escrow of the group whose first escrow is <paramref name="group"/> was settled (that one included).</summary>
    public bool EscrowGroupPaid(RequestId group) =>
        _sql.Scalar(
            "SELECT 1 FROM escrows WHERE state = $p1 AND (request = $p0 OR request IN (SELECT request FROM escrow_groups WHERE grp = $p0)) LIMIT 1",
            Blob.Of(group), (long)EscrowState.Settled) is not null;

    public void InsertEscrow(RequestId request, PeerId client, PeerId node, TokenAmount cap) =>
        _sql.Exec(
            "INSERT INTO escrows(request, client, node, cap, opened_ms, state, price) VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6)",
            Blob.Of(request), Blob.Of(client), Blob.Of(node), Blob.Of(cap), NowMs, (long)EscrowState.Open, Blob.Of(TokenAmount.Zero));

    public void CloseEscrow(RequestId request, EscrowState state, TokenAmount price) =>
        _sql.Exec("UPDATE escrows SET state = $p1, price = $p2 WHERE request = $p0", Blob.Of(request), (long)state, Blob.Of(price));

    // ---- evidence ----
    public bool EvidenceUsed(byte[] key) => _sql.Scalar("SELECT 1 FROM used_evidence WHERE evidence_key = $p0", key) is not null;

    public bool FraudProven(RequestId request, PeerId node) =>
        _sql.Scalar("SELECT 1 FROM used_evidence WHERE request = $p0 AND accused = $p1 AND kind = 1", Blob.Of(request), Blob.Of(node)) is not null;

    public void UseEvidence(byte[] key, int kind, PeerId accused, RequestId request, TokenAmount slashed) =>
        _sql.Exec(
            "INSERT INTO used_evidence(evidence_key, kind, accused, request, slashed) VALUES ($p0, $p1, $p2, $p3, $p4)",
            key, (long)kind, Blob.Of(accused), Blob.Of(request), Blob.Of(slashed));

    public TokenAmount TotalBonded()
    {
        var sum = TokenAmount.Zero;
        using var reader = _sql.Query("SELECT bonded FROM stakes");
        while (reader.Read())
        {
            sum += Blob.ToAmount(reader.GetValue(0));
        }

        return sum;
    }

    // ---- governance ----
    public ProposalInfo? Proposal(ProposalId id)
    {
        using var reader = _sql.Query(
            "SELECT kind, proposer, parameter, value, recipient, voting_ends_ms, executable_ms, quorum_base, yes, no, state FROM proposals WHERE id = $p0",
            Blob.Of(id.Value));
        if (!reader.Read())
        {
            return null;
        }

        byte[] recipient = (byte[])reader.GetValue(4);
        return new ProposalInfo(
            id,
            (ProposalKind)reader.GetInt64(0),
            Blob.ToPeer(reader.GetValue(1)),
            (EconomicParameter)reader.GetInt64(2),
            Blob.ToUInt128(reader.GetValue(3)),
            recipient.Length == 0 ? default : Blob.ToPeer(recipient),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)),
            Blob.ToAmount(reader.GetValue(7)),
            Blob.ToAmount(reader.GetValue(8)),
            Blob.ToAmount(reader.GetValue(9)),
            (ProposalState)reader.GetInt64(10));
    }
}

using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Economics.Embedded;
using PoIP.Economics.KillHost;
using PoIP.Testing.Economics;

// usage: PoIP.Economics.KillHost <database> [writers]
// Applies a mix of operations from several concurrent writers until killed; after each commit
// prints "OK <operation id>" on stdout (flushed), so the parent knows exactly what was committed.
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: PoIP.Economics.KillHost <database> [writers]");
    return 2;
}

int writers = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 4;
var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
var gate = new object();
using var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions
{
    DatabasePath = args[0],
    TimeProvider = new SteppingClock(),
    SynchronousFull = false,
});

var keys = Enumerable.Range(1, 8).Select(i => Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)i, 32).ToArray())).ToArray();
var peers = keys.Select(k => k.PeerId).ToArray();

// 64 requests (request n signed by client n % 8) and each node's receipt for each at 1 token:
// settlements need the escrowed node's signed receipt for the client's signed request.
var requests = Enumerable.Range(0, 64).Select(n => EvidenceFactory.Request(keys[n % keys.Length], (ulong)n, TokenAmount.FromTokens(300))).ToArray();
var receipts = requests.Select(r => keys.Select(k => EvidenceFactory.Receipt(k, r, TokenAmount.FromTokens(1))).ToArray()).ToArray();

async Task Report(Task<EconomicResult> operation, OperationId id)
{
    if ((await operation.ConfigureAwait(false)).IsApplied)
    {
        lock (gate)
        {
            stdout.WriteLine("OK " + id.Value.ToString("N"));
        }
    }
}

async Task Writer(int writer)
{
    var random = new Random(writer);
    for (long i = 0; ; i++)
    {
        var a = peers[random.Next(peers.Length)];
        var b = peers[random.Next(peers.Length)];
        var id = OperationId.New();
        var amount = TokenAmount.FromTokens((ulong)random.Next(1, 300));
        int n = random.Next(requests.Length);
        var request = new RequestId(requests[n].Hash);
        var client = peers[n % peers.Length];
        Task<EconomicResult> operation = random.Next(8) switch
        {
            0 => ledger.DepositAsync(id, a, TokenAmount.FromTokens(1_000)),
            1 => ledger.TransferAsync(id, a, b, amount),
            2 => ledger.StakeAsync(id, a, amount),
            3 => ledger.RequestUnbondAsync(id, a, amount),
            4 => ledger.WithdrawUnbondedAsync(id, a),
            5 => ledger.OpenEscrowAsync(id, request, client, b, amount),
            6 => ledger.SettleEscrowAsync(id, requests[n], receipts[n][random.Next(keys.Length)]),
            _ => ledger.RefundEscrowAsync(id, request),
        };
        await Report(operation, id).ConfigureAwait(false);
    }
}

await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() => Writer(w)))).ConfigureAwait(false);
return 0;

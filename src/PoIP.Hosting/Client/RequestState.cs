using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Protocol;
using PoIP.Network.Addressing;

namespace PoIP.Hosting.Client;

/// <summary>What the attempts of one request share (they may run at once when hedged).</summary>
internal sealed class RequestState(string prompt, AskOptions options, IReadOnlyList<NodeListing> nodes, int start, Action<SignedMessage<InferenceRequest>, PeerId>? onRequest, CancellationToken callerToken)
{
    private readonly Lock _lock = new();
    private readonly List<string> _failures = [];
    private readonly List<Attempt> _running = [];

    /// <summary>Attempts started.</summary>
    public int Attempts;

    /// <summary>Attempts cancelled because another node's first token came first.</summary>
    public int HedgesCancelled;

    public string Prompt { get; } = prompt;

    public AskOptions Options { get; } = options;

    public IReadOnlyList<NodeListing> Nodes { get; } = nodes;

    public int Start { get; } = start;

    public Action<SignedMessage<InferenceRequest>, PeerId>? OnRequest { get; } = onRequest;

    public CancellationToken CallerToken { get; } = callerToken;

    /// <summary>Serialises choosing a node, so concurrent attempts never pick the same one.</summary>
    public SemaphoreSlim Choosing { get; } = new(1, 1);

    /// <summary>
    /// Serialises opening the attempts' escrows, so that the first one opened becomes the group every
    /// later attempt (hedge or retry) joins: the ledger then pays at most one attempt of the request.
    /// </summary>
    public SemaphoreSlim Escrowing { get; } = new(1, 1);

    /// <summary>The request id of the first attempt whose escrow opened (guarded by <see cref="Escrowing"/>).</summary>
    public RequestId? EscrowGroup { get; set; }

    /// <summary>Every escrow opened for this request's attempts (guarded by <see cref="Escrowing"/>; read once every attempt ended).</summary>
    public List<RequestId> Escrows { get; } = [];

    /// <summary>
    /// Escrows whose opening failed or was cancelled without an answer from the ledger (a chain that did not confirm in
    /// time): they may still open later (guarded by <see cref="Escrowing"/>).
    /// </summary>
    public List<RequestId> UncertainEscrows { get; } = [];

    /// <summary>Nodes tried (guarded by <see cref="Choosing"/>).</summary>
    public HashSet<PeerId> Tried { get; } = [];

    public IReadOnlyList<string> Failures
    {
        get
        {
            lock (_lock)
            {
                return [.. _failures];
            }
        }
    }

    public void Started(Attempt attempt)
    {
        lock (_lock)
        {
            _running.Add(attempt);
        }
    }

    /// <summary>Every attempt started but <paramref name="winner"/> (those of earlier rounds included).</summary>
    public IReadOnlyList<Attempt> Others(Attempt winner)
    {
        lock (_lock)
        {
            return [.. _running.Where(a => a != winner)];
        }
    }

    public void Fail(string why)
    {
        lock (_lock)
        {
            _failures.Add(why);
        }
    }
}

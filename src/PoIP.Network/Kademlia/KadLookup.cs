using PoIP.Core.Identity;

namespace PoIP.Network.Kademlia;

/// <summary>What a lookup found.</summary>
/// <param name="Closest">The peers closest to the target that answered, closest first (at most k).</param>
/// <param name="Queries">Requests sent.</param>
/// <param name="Hops">The hop at which the closest answering peer was learnt (a seed from the routing table is hop 1).</param>
internal sealed record LookupResult(IReadOnlyList<KadPeer> Closest, int Queries, int Hops);

/// <summary>Parameters of one lookup.</summary>
internal readonly record struct LookupParameters(int K, int Alpha, int Paths, int Resiliency, bool FollowUp);

/// <summary>
/// Iterative Kademlia lookup over d disjoint paths (S/Kademlia): the seeds are dealt round-robin to the paths,
/// every peer heard of belongs to the first path that heard of it (one shared "seen" set), so a path that meets
/// an adversary stays among adversaries while the others stay clean. A path ends when its
/// <c>Resiliency</c> closest live peers have answered. With <c>FollowUp</c>, the k closest peers heard of
/// by all paths together are then queried until they have all answered (what a put needs).
/// </summary>
internal static class KadLookup
{
    /// <summary>One query: the closer peers the peer returned; throws when it failed.</summary>
    public delegate Task<IReadOnlyList<KadPeer>> Query(KadPeer peer, CancellationToken cancellationToken);

    public static async Task<LookupResult> RunAsync(KadId target, IReadOnlyList<KadPeer> seeds, PeerId self, Query query, LookupParameters p, CancellationToken cancellationToken)
    {
        var state = new Shared(target, self);
        var ordered = seeds.Where(s => s.Peer != self).OrderBy(s => s.Id, Comparer<KadId>.Create(target.CompareDistance)).ToList();
        int paths = Math.Max(1, Math.Min(p.Paths, ordered.Count));
        var lists = new List<Candidate>[paths];
        for (int i = 0; i < paths; i++)
        {
            lists[i] = [];
        }

        for (int i = 0; i < ordered.Count; i++)
        {
            if (state.Claim(ordered[i].Peer))
            {
                Insert(lists[i % paths], new Candidate(ordered[i], 1), target);
            }
        }

        int perPath = Math.Max(1, p.Alpha / paths);
        await Task.WhenAll(lists.Select(list => RunPathAsync(list, state, query, perPath, p.K, p.Resiliency, addUnclaimedOnly: true, cancellationToken))).ConfigureAwait(false);

        if (p.FollowUp)
        {
            var merged = new List<Candidate>();
            foreach (var c in lists.SelectMany(l => l).Where(c => c.State != CandidateState.Failed))
            {
                c.State = c.State == CandidateState.Done ? CandidateState.Done : CandidateState.Waiting;
                Insert(merged, c, target);
            }

            await RunPathAsync(merged, state, query, p.Alpha, p.K, p.K, addUnclaimedOnly: true, cancellationToken).ConfigureAwait(false);
        }

        var responded = state.Responded.OrderBy(c => c.Peer.Id, Comparer<KadId>.Create(target.CompareDistance)).Take(p.K).ToList();
        return new LookupResult([.. responded.Select(c => c.Peer)], state.Queries, responded.Count > 0 ? responded[0].Hop : 0);
    }

    private static async Task RunPathAsync(List<Candidate> list, Shared state, Query query, int parallel, int k, int resiliency, bool addUnclaimedOnly, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inflight = new Dictionary<Task<IReadOnlyList<KadPeer>>, Candidate>();
        try
        {
            while (!Finished(list, resiliency))
            {
                cancellationToken.ThrowIfCancellationRequested();
                while (inflight.Count < parallel && Next(list, k) is { } next)
                {
                    next.State = CandidateState.InFlight;
                    state.CountQuery();
                    inflight.Add(Start(query, next.Peer, cts.Token), next);
                }

                if (inflight.Count == 0)
                {
                    break;
                }

                var done = await Task.WhenAny(inflight.Keys).ConfigureAwait(false);
                var c = inflight[done];
                inflight.Remove(done);
                if (done.IsCompletedSuccessfully)
                {
                    c.State = CandidateState.Done;
                    state.AddResponded(c);
                    foreach (var peer in await done.ConfigureAwait(false)) // completed: no wait
                    {
                        if (peer.Peer == state.Self || (addUnclaimedOnly && !state.Claim(peer.Peer)))
                        {
                            continue;
                        }

                        Insert(list, new Candidate(peer, c.Hop + 1), state.Target);
                    }
                }
                else
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    c.State = CandidateState.Failed;
                }
            }
        }
        finally
        {
            if (inflight.Count > 0)
            {
                await cts.CancelAsync().ConfigureAwait(false);
            }
        }
    }

    private static Task<IReadOnlyList<KadPeer>> Start(Query query, KadPeer peer, CancellationToken cancellationToken)
    {
        Task<IReadOnlyList<KadPeer>> task;
        try
        {
            task = query(peer, cancellationToken);
        }
        catch (Exception ex)
        {
            task = Task.FromException<IReadOnlyList<KadPeer>>(ex);
        }

        // An abandoned query's failure is expected: observe it.
        _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return task;
    }

    /// <summary>The closest waiting candidate among the k closest live ones.</summary>
    private static Candidate? Next(List<Candidate> list, int k)
    {
        int live = 0;
        foreach (var c in list)
        {
            if (c.State == CandidateState.Failed)
            {
                continue;
            }

            if (++live > k)
            {
                return null;
            }

            if (c.State == CandidateState.Waiting)
            {
                return c;
            }
        }

        return null;
    }

    /// <summary>True when the <paramref name="resiliency"/> closest live candidates have all answered.</summary>
    private static bool Finished(List<Candidate> list, int resiliency)
    {
        int answered = 0;
        foreach (var c in list)
        {
            if (c.State == CandidateState.Failed)
            {
                continue;
            }

            if (c.State != CandidateState.Done)
            {
                return false;
            }

            if (++answered >= resiliency)
            {
                return true;
            }
        }

        return true;
    }

    private static void Insert(List<Candidate> list, Candidate c, KadId target)
    {
        int lo = 0;
        int hi = list.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (target.CompareDistance(list[mid].Peer.Id, c.Peer.Id) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        list.Insert(lo, c);
    }

    private enum CandidateState
    {
        Waiting,
        InFlight,
        Done,
        Failed,
    }

    private sealed class Candidate(KadPeer peer, int hop)
    {
        public KadPeer Peer { get; } = peer;

        public int Hop { get; } = hop;

        public CandidateState State { get; set; }
    }

    private sealed class Shared(KadId target, PeerId self)
    {
        private readonly HashSet<PeerId> _seen = [];
        private readonly List<Candidate> _responded = [];
        private readonly Lock _lock = new();
        private int _queries;

        public KadId Target { get; } = target;

        public PeerId Self { get; } = self;

        public int Queries => Volatile.Read(ref _queries);

        public List<Candidate> Responded
        {
            get
            {
                lock (_lock)
                {
                    return [.. _responded];
                }
            }
        }

        public bool Claim(PeerId peer)
        {
            lock (_lock)
            {
                return _seen.Add(peer);
            }
        }

        public void CountQuery() => Interlocked.Increment(ref _queries);

        public void AddResponded(Candidate c)
        {
            lock (_lock)
            {
                _responded.Add(c);
            }
        }
    }
}

namespace PoIP.Node.Commands.Soak;

/// <summary>
/// How the soak's answered requests were paid, counted per escrow group: the attempts of one request (a hedge, a retry)
/// share a group, and the ledger pays at most one escrow of a group, the first receipt presented, which may be that of an
/// attempt the gateway discarded (its node finished anyway). Request ids are lower-case hex.
/// </summary>
internal static class SoakPayments
{
    /// <summary>Counts the payments of <paramref name="escrows"/> against the requests whose answers were delivered.</summary>
    public static SoakPaymentCounts Count(IReadOnlyCollection<SoakEscrow> escrows, IReadOnlySet<string> answered)
    {
        var groupOf = escrows.ToDictionary(e => e.Request, e => e.Group, StringComparer.Ordinal);
        string GroupOf(string request) => groupOf.GetValueOrDefault(request, request);
        var paid = escrows.Where(e => e.Settled).GroupBy(e => e.Group, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Request).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        var answeredGroups = answered.Select(GroupOf).ToHashSet(StringComparer.Ordinal);
        return new SoakPaymentCounts(
            AnsweredNotPaid: answered.Count(id => !paid.ContainsKey(GroupOf(id))),
            PaidNotAnswered: paid.Keys.Count(g => !answeredGroups.Contains(g)),
            GroupsPaidTwice: paid.Values.Sum(requests => requests.Count - 1),
            PaidThroughOtherAttempt: answered.Count(id => paid.TryGetValue(GroupOf(id), out var requests) && !requests.Contains(id)));
    }

    /// <summary>For an answered request whose group was paid through another attempt: that attempt's request id (else null).</summary>
    public static string? PaidInstead(string answeredRequest, IReadOnlyCollection<SoakEscrow> escrows)
    {
        string group = escrows.FirstOrDefault(e => e.Request == answeredRequest)?.Group ?? answeredRequest;
        var settled = escrows.FirstOrDefault(e => e.Settled && e.Group == group);
        return settled is null || settled.Request == answeredRequest ? null : settled.Request;
    }
}

/// <summary>One escrow as the soak reads it: its request, its group (the request itself when alone) and whether it settled.</summary>
internal sealed record SoakEscrow(string Request, string Group, bool Settled);

/// <summary>
/// <paramref name="AnsweredNotPaid"/>: answered requests whose group nobody was paid for; <paramref name="PaidNotAnswered"/>:
/// groups paid with no answer delivered; <paramref name="GroupsPaidTwice"/>: payments beyond the first in a group (a double
/// charge; the ledger refuses them); <paramref name="PaidThroughOtherAttempt"/>: answered requests paid through another
/// attempt of the same request (paid once, to the node whose receipt came first).
/// </summary>
internal sealed record SoakPaymentCounts(int AnsweredNotPaid, int PaidNotAnswered, int GroupsPaidTwice, int PaidThroughOtherAttempt);

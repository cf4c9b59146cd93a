using System.Globalization;
using PoIP.Hosting.Client;

namespace PoIP.Node.Commands;

/// <summary>
/// How many requests the demo sends and with which audit probability, chosen so that the chance of
/// never auditing the cheater is below <see cref="Target"/> given the share of traffic the cheater is
/// guaranteed: with round robin the last of N nodes serves at least ⌊R/N⌋ of R requests; with
/// competition only its one exploration request is guaranteed (the worst node may never win again).
/// Each audit of a cheating answer is assumed to detect it (the proofs matrix: docs/proofs.md), and
/// audit draws are independent per receipt (the verifiable lottery hashes each receipt's signature),
/// so the miss probability is (1 − p)^k for k guaranteed cheating answers.
/// </summary>
/// <param name="Requests">Requests to send.</param>
/// <param name="AuditProbability">The validator's audit probability.</param>
/// <param name="CheaterAnswers">The cheater's guaranteed answers among <paramref name="Requests"/>.</param>
/// <param name="MissProbability">The chance that none of them is audited.</param>
internal sealed record DemoPlan(int Requests, double AuditProbability, int CheaterAnswers, double MissProbability)
{
    /// <summary>The largest acceptable chance of missing the cheater.</summary>
    public const double Target = 1e-6;

    /// <summary>The audit probability when none is given and the request count is free.</summary>
    public const double DefaultAuditProbability = 0.75;

    /// <summary>The request count when it does not matter for the bound (competition) or the bound cannot be met.</summary>
    public const int FallbackRequests = 12;

    /// <summary>The most requests the demo sends.</summary>
    public const int MaxRequests = 10_000;

    /// <summary>True when the plan meets <see cref="Target"/>.</summary>
    public bool MeetsTarget => MissProbability < Target;

    /// <summary>The cheater's guaranteed answers among <paramref name="requests"/> (it is the last of <paramref name="nodes"/>).</summary>
    public static int GuaranteedCheaterAnswers(int requests, int nodes, NodeSelectionPolicy selection) =>
        selection == NodeSelectionPolicy.RoundRobin ? requests / nodes : requests >= nodes ? 1 : 0;

    /// <summary>The chance that none of <paramref name="answers"/> cheating answers is audited at probability <paramref name="p"/>.</summary>
    public static double Miss(double p, int answers) => answers == 0 ? 1 : Math.Pow(1 - p, answers);

    /// <summary>
    /// Completes what the user left open: without a request count, the fewest requests that meet the
    /// target at the given (or default) probability; with a request count and no probability, the
    /// smallest probability in steps of 0.01 that meets it (1 at most). Both given: taken as they are.
    /// </summary>
    public static DemoPlan Choose(int nodes, NodeSelectionPolicy selection, int? requests, double? auditProbability)
    {
        int r;
        double p;
        if (requests is null && (auditProbability is not null || selection == NodeSelectionPolicy.RoundRobin))
        {
            p = auditProbability ?? DefaultAuditProbability;
            r = FallbackRequests;
            for (int candidate = nodes; candidate <= MaxRequests; candidate++)
            {
                if (Miss(p, GuaranteedCheaterAnswers(candidate, nodes, selection)) < Target)
                {
                    r = candidate;
                    break;
                }
            }
        }
        else
        {
            r = requests ?? FallbackRequests;
            int k = GuaranteedCheaterAnswers(r, nodes, selection);
            p = auditProbability ?? SmallestProbability(k);
        }

        int answers = GuaranteedCheaterAnswers(r, nodes, selection);
        return new DemoPlan(r, p, answers, Miss(p, answers));
    }

    private static double SmallestProbability(int answers)
    {
        for (int hundredths = 1; hundredths < 100; hundredths++)
        {
            if (Miss(hundredths / 100.0, answers) < Target)
            {
                return hundredths / 100.0;
            }
        }

        return 1;
    }

    /// <summary>One line for people: the plan and its miss probability.</summary>
    public string Describe(int nodes, NodeSelectionPolicy selection) => string.Create(
        CultureInfo.InvariantCulture,
        $"audit plan: p = {AuditProbability}, {Requests} requests; the cheater (node-{nodes}) is guaranteed {CheaterAnswers} of them ({(selection == NodeSelectionPolicy.RoundRobin ? $"round robin: every {nodes}th" : "competition: its exploration request only")}), so the chance that none is audited is (1 - {AuditProbability})^{CheaterAnswers} = {MissProbability:G3}{(MeetsTarget ? $" (< {Target:G1})" : $", NOT below {Target:G1}: the cheater may go unnoticed")}.");
}

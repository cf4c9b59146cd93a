using System.Globalization;
using PoIP.Testing.LocalNetwork;

namespace PoIP.Node.Commands;

/// <summary>
/// Whether a demo run did what it claims: money conserved, journal equal to the tables, no honest node
/// slashed and, when a node cheats, the cheater caught (a fraud verdict) and slashed (its stake cut).
/// Each failed check is one plain sentence; the demo prints them as <c>error:</c> lines and exits 1.
/// </summary>
/// <param name="CheaterCaught">True or false when a node cheats; null when none does.</param>
/// <param name="Problems">What went wrong (empty: the run succeeded).</param>
internal sealed record DemoOutcome(bool? CheaterCaught, IReadOnlyList<string> Problems)
{
    public static DemoOutcome Judge(NetworkSummary summary, bool cheats, double auditProbability)
    {
        var problems = new List<string>();
        if (!summary.Totals.IsConserved)
        {
            problems.Add("money is not conserved on the ledger.");
        }

        if (!summary.JournalMatchesTables)
        {
            problems.Add("the ledger's self-check failed (the embedded journal does not match its tables, or the chain contract does not hold its supply).");
        }

        foreach (var honest in summary.Nodes.Where(n => !n.Cheats && (n.Frauds > 0 || n.StakeAfter < n.StakeBefore)))
        {
            problems.Add($"the honest node {honest.Name} was judged fraudulent or slashed.");
        }

        bool? caught = null;
        if (cheats)
        {
            caught = true;
            foreach (var cheater in summary.Nodes.Where(n => n.Cheats))
            {
                if (cheater.Frauds > 0 && cheater.StakeAfter < cheater.StakeBefore)
                {
                    continue;
                }

                caught = false;
                string why = cheater.Served == 0 ? "it answered no request"
                    : cheater.Audits == 0 ? string.Create(CultureInfo.InvariantCulture, $"none of its {cheater.Served} answers was audited (chance (1 - {auditProbability})^{cheater.Served} = {DemoPlan.Miss(auditProbability, cheater.Served):G3})")
                    : cheater.Frauds == 0 ? $"its {cheater.Audits} audited answers were not judged fraudulent"
                    : "it was judged fraudulent but its stake was not cut";
                problems.Add($"the cheating node {cheater.Name} was NOT caught: {why}.");
            }
        }

        return new DemoOutcome(caught, problems);
    }
}

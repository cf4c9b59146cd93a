using PoIP.Inference.Verification;

namespace PoIP.Testing.Verification;

/// <summary>Settings of a <see cref="CheatingSimulation"/>.</summary>
/// <param name="Economics">Fee, costs, slash and detection rate.</param>
/// <param name="Nodes">Number of nodes.</param>
/// <param name="Cheaters">How many of them cheat on every job.</param>
/// <param name="AuditProbability">Probability that a job is audited, p.</param>
/// <param name="Rounds">Rounds; every node serves one job per round.</param>
/// <param name="Seed">Seed of the simulation's PRNG.</param>
/// <param name="AuditCost">Validator's cost of one audit (paid by the network; reported, not charged to nodes).</param>
public sealed record CheatingSimulationOptions(CheatingEconomics Economics, int Nodes, int Cheaters, double AuditProbability, int Rounds, ulong Seed = 1, double AuditCost = 0);

/// <summary>Outcome for one strategy.</summary>
/// <param name="Strategy"><c>honest</c> or <c>cheat</c>.</param>
/// <param name="Nodes">Nodes following it.</param>
/// <param name="Jobs">Jobs served.</param>
/// <param name="Audits">Jobs audited.</param>
/// <param name="Caught">Cheats detected (slashed).</param>
/// <param name="ExpectedProfitPerJob">Expected profit per job from <see cref="CheatingEconomics"/>.</param>
/// <param name="RealisedProfitPerJob">Realised mean profit per job.</param>
/// <param name="RealisedProfit">Realised total profit.</param>
public sealed record CheatingStrategyResult(string Strategy, int Nodes, long Jobs, long Audits, long Caught, double ExpectedProfitPerJob, double RealisedProfitPerJob, double RealisedProfit);

/// <summary>What a simulation produced.</summary>
/// <param name="Options">The settings.</param>
/// <param name="MinimalAuditProbability">Break-even p.</param>
/// <param name="Honest">Honest nodes.</param>
/// <param name="Cheat">Cheating nodes.</param>
/// <param name="SlashedTotal">Total stake slashed.</param>
/// <param name="AuditCostTotal">Total cost of audits.</param>
public sealed record CheatingSimulationReport(CheatingSimulationOptions Options, double MinimalAuditProbability, CheatingStrategyResult Honest, CheatingStrategyResult Cheat, double SlashedTotal, double AuditCostTotal)
{
    /// <summary>True when cheaters realised less profit per job than honest nodes.</summary>
    public bool CheatingLoses => Cheat.RealisedProfitPerJob < Honest.RealisedProfitPerJob;
}

/// <summary>
/// Agent simulation of honest and cheating nodes under probabilistic audits: each round every node
/// serves one job for the fee; each job is audited with probability p; an audited cheat is detected
/// with probability d, and then its fee is refunded and its stake slashed. Deterministic for a seed
/// (SplitMix64 counter-based draws keyed by node and round).
/// </summary>
public static class CheatingSimulation
{
    /// <summary>Runs the simulation.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Counts or probability out of range.</exception>
    public static CheatingSimulationReport Run(CheatingSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var e = options.Economics;
        e.EnsureValid();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Nodes, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Cheaters);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Cheaters, options.Nodes);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Rounds);
        if (!double.IsFinite(options.AuditProbability) || options.AuditProbability is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.AuditProbability, "p is in [0, 1].");
        }

        long honestJobs = 0, honestAudits = 0, cheatJobs = 0, cheatAudits = 0, caught = 0;
        double honestProfit = 0, cheatProfit = 0, slashed = 0;
        for (int round = 0; round < options.Rounds; round++)
        {
            for (int node = 0; node < options.Nodes; node++)
            {
                bool cheater = node < options.Cheaters;
                bool audited = Uniform(options.Seed, node, round, 0) < options.AuditProbability;
                if (!cheater)
                {
                    honestJobs++;
                    honestAudits += audited ? 1 : 0;
                    honestProfit += e.Fee - e.HonestCost;
                    continue;
                }

                cheatJobs++;
                cheatAudits += audited ? 1 : 0;
                if (audited && Uniform(options.Seed, node, round, 1) < e.DetectionRate)
                {
                    caught++;
                    slashed += e.Slash;
                    cheatProfit += -e.CheatCost - e.Slash;
                }
                else
                {
                    cheatProfit += e.Fee - e.CheatCost;
                }
            }
        }

        double p = options.AuditProbability;
        var honest = new CheatingStrategyResult("honest", options.Nodes - options.Cheaters, honestJobs, honestAudits, 0, e.ExpectedHonestProfit, honestJobs > 0 ? honestProfit / honestJobs : 0, honestProfit);
        var cheat = new CheatingStrategyResult("cheat", options.Cheaters, cheatJobs, cheatAudits, caught, e.ExpectedCheaterProfit(p), cheatJobs > 0 ? cheatProfit / cheatJobs : 0, cheatProfit);
        return new CheatingSimulationReport(options, e.MinimalAuditProbability, honest, cheat, slashed, (honestAudits + cheatAudits) * options.AuditCost);
    }

    /// <summary>A uniform draw in [0, 1) keyed by (seed, who, round, stream); streams 0 to 3 are independent.</summary>
    internal static double Uniform(ulong seed, int node, int round, int stream)
    {
        ulong z = seed ^ ((ulong)(uint)node << 32) ^ (uint)round ^ ((ulong)(uint)stream << 62);
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        z += 0x9E3779B97F4A7C15UL * (ulong)(uint)(round + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }
}

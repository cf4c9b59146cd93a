using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PoIP.Hosting.Client;
using PoIP.Node.Commands;

namespace PoIP.Hosts.Tests;

/// <summary>The demo's audit plan: request count and audit probability that make missing the cheater less likely than 1e-6.</summary>
public sealed class DemoPlanTests
{
    [Fact]
    public void Choose_Defaults_ThirtyRequestsAtThreeQuarters()
    {
        var plan = DemoPlan.Choose(3, NodeSelectionPolicy.RoundRobin, requests: null, auditProbability: null);

        Assert.Equal(30, plan.Requests);
        Assert.Equal(0.75, plan.AuditProbability);
        Assert.Equal(10, plan.CheaterAnswers);
        Assert.Equal(Math.Pow(0.25, 10), plan.MissProbability);
        Assert.True(plan.MeetsTarget);
    }

    [Fact]
    public void Choose_RequestsGiven_SmallestProbabilityInHundredthsThatMeetsTheTarget()
    {
        var plan = DemoPlan.Choose(3, NodeSelectionPolicy.RoundRobin, requests: 12, auditProbability: null);

        Assert.Equal(0.97, plan.AuditProbability); // 4 cheating answers: 0.03^4 = 8.1e-7, 0.04^4 = 2.6e-6
        Assert.True(plan.MeetsTarget);
        Assert.False(DemoPlan.Miss(0.96, 4) < DemoPlan.Target);
    }

    [Fact]
    public void Choose_Competition_OnlyTheExplorationRequestIsGuaranteed_AuditsEverything()
    {
        var plan = DemoPlan.Choose(3, NodeSelectionPolicy.Competition, requests: null, auditProbability: null);

        Assert.Equal(1, plan.CheaterAnswers);
        Assert.Equal(1.0, plan.AuditProbability);
        Assert.Equal(0, plan.MissProbability);
    }

    [Fact]
    public void Choose_BothGiven_TakenAsTheyAre_AndTheBoundSaysSo()
    {
        var plan = DemoPlan.Choose(3, NodeSelectionPolicy.RoundRobin, requests: 12, auditProbability: 0.5);

        Assert.Equal((12, 0.5), (plan.Requests, plan.AuditProbability));
        Assert.Equal(0.0625, plan.MissProbability);
        Assert.False(plan.MeetsTarget);
        Assert.Contains("NOT below", plan.Describe(3, NodeSelectionPolicy.RoundRobin), StringComparison.Ordinal);
    }

    [Property(MaxTest = 200)]
    public Property Choose_RoundRobinAnyProbability_FewestRequestsThatMeetTheTarget_OrSaysItCannot(PositiveInt nodesSeed, PositiveInt hundredths)
    {
        int nodes = 2 + (nodesSeed.Get % 15);
        double p = (1 + (hundredths.Get % 100)) / 100.0;
        var plan = DemoPlan.Choose(nodes, NodeSelectionPolicy.RoundRobin, requests: null, auditProbability: p);
        bool feasible = DemoPlan.Miss(p, DemoPlan.MaxRequests / nodes) < DemoPlan.Target;
        if (!feasible)
        {
            // e.g. p = 0.01 with 16 nodes needs 22,000 requests: the fallback, and the plan says it misses the target
            return (plan.Requests == DemoPlan.FallbackRequests && !plan.MeetsTarget).Label($"{nodes} nodes, p = {p}: {plan}");
        }

        bool fewer = plan.Requests == nodes || DemoPlan.Miss(p, DemoPlan.GuaranteedCheaterAnswers(plan.Requests - 1, nodes, NodeSelectionPolicy.RoundRobin)) >= DemoPlan.Target;
        return (plan.MeetsTarget && fewer && plan.CheaterAnswers == plan.Requests / nodes).Label($"{nodes} nodes, p = {p}: {plan}");
    }
}

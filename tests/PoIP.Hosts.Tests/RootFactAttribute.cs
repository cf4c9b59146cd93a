using PoIP.Node.Hosts;

namespace PoIP.Hosts.Tests;

/// <summary>A fact that needs the host lab (root, Linux, ip, /dev/net/tun); skipped with the reason where the machine cannot run it.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (HostLab.Unsupported() is { } why)
        {
            Skip = "host lab " + why;
        }
    }
}

/// <summary>The host-lab tests run one at a time: they start several .NET processes and share /run/netns.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostLabGroup
{
    public const string Name = "host lab";
}

using System.Net;

namespace PoIP.Node.Hosts;

/// <summary>One host of the lab: a network namespace with one IPv4 address on the lab's wire, and its own folder (key file, data).</summary>
/// <param name="Name">The role name (e.g. <c>node-1</c>).</param>
/// <param name="Namespace">The namespace's name (<c>poip-RUN-NAME</c>).</param>
/// <param name="Address">Its address on the lab's /24.</param>
/// <param name="Directory">Its own folder: key file and data directory of the role it runs.</param>
internal sealed record LabHost(string Name, string Namespace, IPAddress Address, string Directory)
{
    /// <summary>The role's key file, in its own folder.</summary>
    public string KeyFile => Path.Combine(Directory, "identity.key");

    /// <summary>A libp2p TCP listen address on this host.</summary>
    public string ListenAddress(int port) => $"/ip4/{Address}/tcp/{port}";
}

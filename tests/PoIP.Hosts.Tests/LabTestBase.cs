using PoIP.Node.Hosts;

namespace PoIP.Hosts.Tests;

/// <summary>
/// A host lab per test, made where the lab is supported (root, iproute2) and removed after the test whatever
/// happened; where it is not, the tests are <see cref="RootFactAttribute"/>s and skip with the reason.
/// </summary>
public abstract class LabTestBase : IAsyncLifetime
{
    private HostLab? _lab;

    internal HostLab Lab => _lab ?? throw new InvalidOperationException("not supported here");

    /// <inheritdoc />
    public Task InitializeAsync()
    {
        if (HostLab.Unsupported() is null)
        {
            _lab = HostLab.Create(handleSignals: false);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_lab is not null)
        {
            await _lab.DisposeAsync();
        }
    }
}

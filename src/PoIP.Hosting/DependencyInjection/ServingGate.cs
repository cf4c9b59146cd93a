using Microsoft.Extensions.Logging;
using PoIP.Core.Economics;
using PoIP.Core.Identity;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// The node's stake check before each request. When the ledger does not answer (a chain's RPC down
/// or slow: the back end's own call timeout bounds the wait), the node keeps serving on its last
/// successful answer for up to <see cref="StaleLimit"/>, then refuses with a reason that names the
/// ledger as unavailable; it never waits on the ledger beyond that timeout.
/// </summary>
internal sealed class ServingGate(IStakeManager stakes, PeerId node, TimeProvider time, ILogger logger)
{
    public static readonly TimeSpan StaleLimit = TimeSpan.FromMinutes(10);
    private readonly Lock _lock = new();
    private DateTimeOffset? _lastServable;

    /// <summary>Null to serve, else the refusal's reason.</summary>
    public async ValueTask<string?> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            bool may = await stakes.CanServeAsync(node, cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                _lastServable = may ? time.GetUtcNow() : null;
            }

            return may ? null : "stake below the minimum to serve.";
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            DateTimeOffset? last;
            lock (_lock)
            {
                last = _lastServable;
            }

            var age = last is { } at ? time.GetUtcNow() - at : TimeSpan.MaxValue;
            if (age <= StaleLimit)
            {
                Log.ServingOnLastStake(logger, ex.Message, age);
                return null;
            }

            Log.LedgerUnavailable(logger, ex.Message);
            return "the ledger is unavailable (" + ex.Message + "); serving resumes when it answers.";
        }
    }
}

using Microsoft.Extensions.Logging;
using PoIP.Core.Hashing;
using PoIP.Network.Kademlia;
using PoIP.Network.Transactions;

namespace PoIP.Hosting.DependencyInjection;

/// <summary>
/// A validator serving the DHT announces itself as a provider of <see cref="PoIPRecordKeys.Validators"/> for the model
/// its engine re-executes, so clients and gateways with only bootstrap addresses find it. Until a peer holds the
/// entry it retries after <see cref="DhtPublisher.FirstRetry"/>, doubling to <see cref="DhtPublisher.MaxRetry"/>;
/// once held, the DHT's own provider republish keeps it fresh.
/// </summary>
internal sealed class DhtValidatorAnnouncer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    public DhtValidatorAnnouncer(IKademliaDht dht, ModelId model, TimeProvider time, ILogger logger)
    {
        _loop = AnnounceAsync(dht, model, time, logger, _stopping.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private static async Task AnnounceAsync(IKademliaDht dht, ModelId model, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var retry = DhtPublisher.FirstRetry;
        for (int attempt = 1; !cancellationToken.IsCancellationRequested; attempt++)
        {
            try
            {
                int providers = await dht.ProvideAsync(PoIPRecordKeys.Validators(model), cancellationToken).ConfigureAwait(false);
                if (providers > 0)
                {
                    Log.DhtValidatorAnnounced(logger, model.ToString()[..16], providers, attempt);
                    return;
                }

                await Task.Delay(retry, time, cancellationToken).ConfigureAwait(false);
                retry = retry * 2 > DhtPublisher.MaxRetry ? DhtPublisher.MaxRetry : retry * 2;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.DhtPublishFailed(logger, ex.Message);
                await Task.Delay(retry, time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}

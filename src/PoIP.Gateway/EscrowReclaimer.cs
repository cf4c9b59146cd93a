using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PoIP.Gateway;

/// <summary>
/// Every <see cref="PoIPGatewayOptions.ReclaimInterval"/>, takes back the price caps the gateway's client left in
/// escrow for attempts that delivered no answer (<see cref="Hosting.Client.PoIPClient.ReclaimEscrowsAsync"/>).
/// </summary>
internal sealed partial class EscrowReclaimer(PoIPGatewayOptions options, ClientAccessor client, GatewayMetrics metrics, TimeProvider time, ILogger<EscrowReclaimer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.ReclaimInterval is not { } interval)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken).ConfigureAwait(false);
                var poip = client.Get();
                int refunded = await poip.ReclaimEscrowsAsync(stoppingToken).ConfigureAwait(false);
                if (refunded > 0)
                {
                    metrics.Reclaimed(refunded);
                    LogReclaimed(logger, refunded, poip.EscrowsToReclaim);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogReclaimFault(logger, ex.Message); // the ledger or chain unreachable, the host not started yet: next round
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reclaimed {Refunded} escrows of undelivered attempts; {Waiting} still wait.")]
    private static partial void LogReclaimed(ILogger logger, int refunded, int waiting);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reclaiming escrows failed, trying again next round: {Reason}")]
    private static partial void LogReclaimFault(ILogger logger, string reason);
}

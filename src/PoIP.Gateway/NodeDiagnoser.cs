using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PoIP.Core.Hashing;
using PoIP.Inference.Diagnostics;

namespace PoIP.Gateway;

/// <summary>
/// Diagnoses, every <see cref="PoIPGatewayOptions.DiagnosticsInterval"/>, each node the directory lists
/// for the model the known-answer challenges are for (stories260K), through the gateway's client.
/// </summary>
internal sealed class NodeDiagnoser(PoIPGatewayOptions options, ClientAccessor client, TimeProvider time, ILogger<NodeDiagnoser> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.DiagnosticsInterval is not { } interval)
        {
            return;
        }

        var model = ModelId.Parse(KnownAnswerTest.ModelSha256);
        while (!stoppingToken.IsCancellationRequested)
        {
            var round = new List<bool?>();
            try
            {
                var poip = client.Get();
                foreach (var listing in await poip.Directory.FindNodesAsync(model, stoppingToken).ConfigureAwait(false))
                {
                    if (listing.Address.PeerId is null)
                    {
                        continue;
                    }

                    var diagnosis = await poip.DiagnoseAsync(listing.Address, options.MaxPricePerToken, stoppingToken).ConfigureAwait(false);
                    round.Add(diagnosis.KnownAnswerPassed);
                    if (diagnosis.KnownAnswerPassed == false)
                    {
                        Log.DiagnosisFailed(logger, diagnosis.Node.ToString(), diagnosis.Detail);
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.DiagnosisFault(logger, ex); // e.g. the PoIP host has not started yet: try again next round
            }

            // The next round's timer starts before this round is reported (a clock advanced on the report then fires it).
            var next = Task.Delay(interval, time, stoppingToken);
            Log.DiagnosisRound(logger, round.Count, round.Count(p => p == true), round.Count(p => p == false), round.Count(p => p is null));
            try
            {
                await next.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

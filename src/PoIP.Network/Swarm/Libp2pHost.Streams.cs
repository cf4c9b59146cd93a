using NSec.Cryptography;
using PoIP.Core.Errors;
using PoIP.Network.Internal;
using PoIP.Network.Multistream;
using PoIP.Network.Protocols;

namespace PoIP.Network;

public sealed partial class Libp2pHost
{
    // ------------------------------------------------------------------ streams

    private async Task HandleInboundStreamAsync(Libp2pConnection connection, Libp2pStream stream)
    {
        stream.Connection = connection;
        stream.RemotePeer = connection.RemotePeer;
        connection.LastActivity = Time.GetTimestamp();
        await using (stream.ConfigureAwait(false))
        {
            string protocol;
            using (var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                cts.CancelAfter(_options.StreamNegotiationTimeout);
                try
                {
                    protocol = await MultistreamSelect.ListenAsync(stream, _handlers.ContainsKey, cts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex) when (!_stopping.IsCancellationRequested)
                {
                    throw new Libp2pException(Libp2pErrorCodes.Timeout, "stream negotiation timed out", ex);
                }
            }

            stream.Protocol = protocol;
            Metrics.StreamOpened(protocol, outbound: false);
            if (_handlers.TryGetValue(protocol, out var handler))
            {
                await handler(stream, _stopping.Token).ConfigureAwait(false);
            }
        }
    }

    private async Task ServeIdentifyAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        var connection = stream.Connection!;
        var message = IdentifyCodec.Encode(_key.PublicKey, _options.ProtocolVersion, _options.AgentVersion, Protocols,
            ListenAddresses.Select(a => a.WithoutPeerId()), connection.RemoteAddress.WithoutPeerId());
        await LengthPrefixedFrames.WriteAsync(stream, message, cancellationToken).ConfigureAwait(false);
        await stream.CompleteWritingAsync().ConfigureAwait(false);
    }

    internal async Task<IdentifyInfo> IdentifyAsync(Libp2pConnection connection, CancellationToken cancellationToken)
    {
        var stream = await connection.OpenStreamAsync(IdentifyCodec.ProtocolId, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await stream.CompleteWritingAsync().ConfigureAwait(false);
            byte[] message;
            try
            {
                message = await LengthPrefixedFrames.ReadAsync(stream, IdentifyCodec.MaxMessageLength, cancellationToken).ConfigureAwait(false)
                    ?? throw new Libp2pException(Libp2pErrorCodes.Closed, "identify stream ended before a message");
            }
            catch (PoIPDecodeException ex)
            {
                throw ex.Kind == DecodeErrorKind.Oversize ? Internal.Errors.Limit(ex.Message) : Internal.Errors.Protocol(ex.Message);
            }

            var info = IdentifyCodec.Decode(message, connection.RemotePeer);
            connection.SetIdentified(info);
            PeerIdentified?.Invoke(this, new Libp2pIdentifiedEventArgs(connection, info));
            return info;
        }
    }

    private async Task IdentifyOnConnectAsync(Libp2pConnection connection)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        cts.CancelAfter(_options.HandshakeTimeout);
        try
        {
            await IdentifyAsync(connection, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.IdentifyFailed(_logger, connection.RemotePeer.ToString(), ex.Message);
            connection.SetIdentifyFailed(ex);
        }
    }
}

using System.Net;
using System.Net.Sockets;
using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Network.Addressing;
using PoIP.Network.Internal;
using PoIP.Network.Multistream;
using PoIP.Network.Noise;
using PoIP.Network.Yamux;

namespace PoIP.Network;

public sealed partial class Libp2pHost
{
    // ------------------------------------------------------------------ upgrade

    private async Task<Libp2pConnection> UpgradeAsync(Socket socket, bool inbound, PeerId? expected, CancellationToken cancellationToken)
    {
        socket.NoDelay = true;
        var remoteEndPoint = (IPEndPoint)socket.RemoteEndPoint!;
        var localEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        var network = new NetworkStream(socket, ownsSocket: true);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        cts.CancelAfter(_options.HandshakeTimeout);
        NoiseSecureStream? secure = null;
        try
        {
            string[] muxers = _options.EarlyMuxerNegotiation ? [YamuxSession.ProtocolId] : [];
            NoiseResult noise;
            if (inbound)
            {
                await MultistreamSelect.ListenAsync(network, p => p == NoiseHandshake.ProtocolId, cts.Token).ConfigureAwait(false);
                noise = await NoiseHandshake.RespondAsync(network, _noiseStatic, _key, muxers, cts.Token).ConfigureAwait(false);
            }
            else
            {
                await MultistreamSelect.SelectAsync(network, NoiseHandshake.ProtocolId, cts.Token).ConfigureAwait(false);
                noise = await NoiseHandshake.InitiateAsync(network, _noiseStatic, _key, muxers, expected, cts.Token).ConfigureAwait(false);
            }

            secure = new NoiseSecureStream(network, noise.Send, noise.Receive);
            bool early = _options.EarlyMuxerNegotiation && noise.RemoteMuxers.Contains(YamuxSession.ProtocolId);
            if (!early)
            {
                if (inbound)
                {
                    await MultistreamSelect.ListenAsync(secure, p => p == YamuxSession.ProtocolId, cts.Token).ConfigureAwait(false);
                }
                else
                {
                    await MultistreamSelect.SelectAsync(secure, YamuxSession.ProtocolId, cts.Token).ConfigureAwait(false);
                }
            }

            var remoteAddress = Multiaddr.FromEndPoint(remoteEndPoint).WithPeerId(noise.RemotePeer);
            var localAddress = Multiaddr.FromEndPoint(localEndPoint);
            Libp2pConnection? connection = null;
            var session = new YamuxSession(secure, isClient: !inbound, _options.Yamux, s => HandleInboundStreamAsync(connection!, s), Time, _logger);
            session.StreamRefused = Metrics.StreamRefused;
            connection = new Libp2pConnection(this, session, noise.RemotePeer, noise.RemoteKey, remoteAddress, localAddress, inbound, Time);
            if (!TryAdd(connection, out string? refusal))
            {
                session.Abort(null);
                throw Errors.Limit(refusal!);
            }

            session.Start();
            _ = WatchAsync(connection);
            Metrics.ConnectionOpened(inbound);
            Log.ConnectionOpened(_logger, inbound ? "inbound" : "outbound", noise.RemotePeer.ToString(), remoteAddress.ToString());
            ConnectionOpened?.Invoke(this, new Libp2pConnectionEventArgs(connection));
            if (_options.IdentifyOnConnect)
            {
                _ = IdentifyOnConnectAsync(connection);
            }

            return connection;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            Dispose(secure, network);
            throw new Libp2pException(Libp2pErrorCodes.Timeout, "handshake timed out", ex);
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException or SocketException or PoIPDecodeException)
        {
            Dispose(secure, network);
            throw new Libp2pException(Libp2pErrorCodes.HandshakeFailed, "handshake failed: " + ex.Message, ex);
        }
        catch
        {
            Dispose(secure, network);
            throw;
        }

        static void Dispose(NoiseSecureStream? secure, NetworkStream network)
        {
            if (secure is not null)
            {
                secure.Dispose();
            }
            else
            {
                network.Dispose();
            }
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            if (!_pendingInbound.Wait(0))
            {
                Log.ConnectionRefused(_logger, "too many pending inbound handshakes");
                socket.Dispose();
                continue;
            }

            _ = Task.Run(async () =>
            {
                string remote = socket.RemoteEndPoint?.ToString() ?? "?";
                try
                {
                    await UpgradeAsync(socket, inbound: true, expected: null, _stopping.Token).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Metrics.HandshakeFailed(inbound: true);
                    Log.InboundHandshakeFailed(_logger, remote, ex.Message);
                    socket.Dispose();
                }
                finally
                {
                    _pendingInbound.Release();
                }
            });
        }
    }
}

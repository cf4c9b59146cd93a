using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using PoIP.Core.Errors;
using PoIP.Core.Identity;
using PoIP.Network.Internal;
using PoIP.Network.Kademlia.Wire;
using PoIP.Network.Protocols;

namespace PoIP.Network.Kademlia;

/// <summary>
/// kad-dht over libp2p: one stream per outbound request (varint-length-prefixed protobuf), and an inbound
/// handler that serves several requests per stream until the peer closes it, goes idle, or misbehaves.
/// Concurrent requests to a peer that is not connected share one dial (else a burst of puts opens a
/// connection each, up to the host's per-peer limit).
/// </summary>
internal sealed class Libp2pKadTransport(Libp2pHost host, KademliaOptions options, TimeProvider time, ILogger logger) : IKadTransport
{
    /// <summary>An inbound stream idle this long is closed (go uses one minute).</summary>
    public static readonly TimeSpan StreamIdleTimeout = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<PeerId, Task<Libp2pConnection>> _dialing = new();

    public KadNode? Node { get; set; }

    public async Task<Message?> SendAsync(KadPeer peer, Message request, bool expectReply, CancellationToken cancellationToken)
    {
        var connection = host.FindConnection(peer.Peer) ?? await DialOnceAsync(peer).WaitAsync(cancellationToken).ConfigureAwait(false);
        var stream = await connection.OpenStreamAsync(options.ProtocolId, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(KadCodec.EncodeFrame(request), cancellationToken).ConfigureAwait(false);
            if (!expectReply)
            {
                await stream.CompleteWritingAsync().ConfigureAwait(false);
                return null;
            }

            byte[] body = await LengthPrefixedFrames.ReadAsync(stream, options.MaxMessageSize, cancellationToken).ConfigureAwait(false)
                ?? throw Errors.Closed("the peer closed the stream without a reply");
            return KadCodec.Decode(body, options.MaxMessageSize);
        }
    }

    /// <summary>The dial to <paramref name="peer"/> in progress, or a new one (bounded by the host's dial timeout, not by any one caller).</summary>
    private Task<Libp2pConnection> DialOnceAsync(KadPeer peer)
    {
        while (true)
        {
            if (_dialing.TryGetValue(peer.Peer, out var pending))
            {
                return pending;
            }

            var dial = new TaskCompletionSource<Libp2pConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_dialing.TryAdd(peer.Peer, dial.Task))
            {
                _ = RunSharedDialAsync(peer, dial);
                return dial.Task;
            }
        }
    }

    private async Task RunSharedDialAsync(KadPeer peer, TaskCompletionSource<Libp2pConnection> dial)
    {
        try
        {
            dial.TrySetResult(await DialAsync(peer, CancellationToken.None).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            dial.TrySetException(ex);
        }
        finally
        {
            _dialing.TryRemove(KeyValuePair.Create(peer.Peer, dial.Task));
        }
    }

    private async Task<Libp2pConnection> DialAsync(KadPeer peer, CancellationToken cancellationToken)
    {
        Exception? last = null;
        foreach (var address in peer.Addresses)
        {
            if (!address.TryGetTcpTarget(out _, out _, out _))
            {
                continue;
            }

            try
            {
                return await host.DialAsync(address.WithPeerId(peer.Peer), cancellationToken).ConfigureAwait(false);
            }
            catch (Libp2pException ex)
            {
                last = ex;
            }
        }

        throw last ?? Errors.Closed($"no dialable address for {peer.Peer}");
    }

    public void Disconnect(PeerId peer)
    {
        foreach (var c in host.Connections.Where(c => c.RemotePeer == peer))
        {
            _ = c.CloseAsync();
        }
    }

    public bool IsConnected(PeerId peer) => host.FindConnection(peer) is not null;

    /// <summary>The inbound stream handler (server mode).</summary>
    public async Task ServeAsync(Libp2pStream stream, CancellationToken cancellationToken)
    {
        var node = Node ?? throw new InvalidOperationException("transport not attached");
        var peer = stream.RemotePeer;
        string reason = "closed";
        try
        {
            while (true)
            {
                byte[]? body;
                using (var idle = new CancellationTokenSource(StreamIdleTimeout, time))
                using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, idle.Token))
                {
                    try
                    {
                        body = await LengthPrefixedFrames.ReadAsync(stream, options.MaxMessageSize, linked.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        reason = "idle";
                        stream.Reset();
                        return;
                    }
                }

                if (body is null)
                {
                    return;
                }

                Message request;
                try
                {
                    request = KadCodec.Decode(body, options.MaxMessageSize);
                }
                catch (PoIPDecodeException ex)
                {
                    Refused(node.RefuseMalformed(peer, "malformed"), stream, peer);
                    reason = ex.Message;
                    return;
                }

                var result = node.HandleRequest(peer, request);
                if (result.Refusal is not null)
                {
                    reason = result.Refusal;
                    Refused(result.Disconnect, stream, peer);
                    return;
                }

                if (result.Reply is { } reply)
                {
                    await stream.WriteAsync(KadCodec.EncodeFrame(reply), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (PoIPDecodeException ex)
        {
            // Oversized or broken framing.
            reason = ex.Message;
            Refused(node.RefuseMalformed(peer, ex.Kind == DecodeErrorKind.Oversize ? "oversized-message" : "malformed"), stream, peer);
        }
        catch (Exception ex) when (ex is Libp2pException or IOException or OperationCanceledException)
        {
            reason = ex.Message;
        }
        finally
        {
            Log.DhtStreamEnded(logger, peer.ToString(), reason);
        }
    }

    private void Refused(bool disconnect, Libp2pStream stream, PeerId peer)
    {
        stream.Reset();
        if (disconnect)
        {
            Disconnect(peer);
        }
    }
}

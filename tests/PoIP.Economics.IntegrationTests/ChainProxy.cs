using System.Net;
using System.Net.Sockets;

namespace PoIP.Economics.IntegrationTests;

/// <summary>How <see cref="ChainProxy"/> treats connections.</summary>
internal enum ProxyMode
{
    /// <summary>Pass bytes both ways to the chain.</summary>
    Forward,

    /// <summary>The RPC is down: every connection is closed at once.</summary>
    Refuse,

    /// <summary>The RPC is hung: connections are accepted and never answered.</summary>
    BlackHole,
}

/// <summary>
/// A TCP proxy in front of the chain's RPC that a test can make down (<see cref="ProxyMode.Refuse"/>)
/// or hung (<see cref="ProxyMode.BlackHole"/>); changing the mode drops every open connection, so
/// kept-alive HTTP connections follow the new mode too.
/// </summary>
internal sealed class ChainProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Uri _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<TcpClient> _open = [];
    private readonly Task _accepting;
    private ProxyMode _mode;

    public ChainProxy(Uri target)
    {
        _target = target;
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = Task.Run(AcceptAsync);
    }

    public Uri Url { get; }

    public ProxyMode Mode
    {
        get => _mode;
        set
        {
            lock (_lock)
            {
                _mode = value;
                foreach (var client in _open)
                {
                    client.Dispose();
                }

                _open.Clear();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Mode = ProxyMode.Refuse; // drops what is open
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // stopped
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            ProxyMode mode;
            lock (_lock)
            {
                mode = _mode;
                if (mode != ProxyMode.Refuse)
                {
                    _open.Add(client);
                }
            }

            if (mode == ProxyMode.Refuse)
            {
                client.Client.LingerState = new LingerOption(true, 0); // reset, as a closed port would
                client.Dispose();
            }
            else if (mode == ProxyMode.Forward)
            {
                _ = Task.Run(() => ForwardAsync(client));
            }

            // BlackHole: held open, never read or answered, until the mode changes.
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using var upstream = new TcpClient();
        lock (_lock)
        {
            _open.Add(upstream);
        }

        try
        {
            await upstream.ConnectAsync(_target.Host, _target.Port, _stop.Token);
            var a = client.GetStream().CopyToAsync(upstream.GetStream(), _stop.Token);
            var b = upstream.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
            await Task.WhenAny(a, b);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // a side closed, or the mode changed
        }
        finally
        {
            client.Dispose();
        }
    }
}

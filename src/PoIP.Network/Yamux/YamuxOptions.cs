namespace PoIP.Network.Yamux;

/// <summary>Limits and timings of the Yamux muxer. Defaults suit a node on the open internet.</summary>
public sealed class YamuxOptions
{
    /// <summary>The window every stream starts with (fixed by the spec).</summary>
    public const int InitialWindow = 256 * 1024;

    /// <summary>Receive window granted per stream (≥ 256 KiB). Default 1 MiB.</summary>
    public int MaxStreamWindow { get; set; } = 1024 * 1024;

    /// <summary>Most streams the peer may have open towards us at once (more are reset). Default 256.</summary>
    public int MaxInboundStreams { get; set; } = 256;

    /// <summary>
    /// Inbound streams refused one after another (none accepted between them) before the connection is closed as a
    /// flood (GoAway, protocol error). Default 256: a peer holding the limit and opening 10,000 more streams is
    /// disconnected after 256 refusals.
    /// </summary>
    public int MaxRefusedStreamsInARow { get; set; } = 256;

    /// <summary>Most streams we open at once. Default 256.</summary>
    public int MaxOutboundStreams { get; set; } = 256;

    /// <summary>Most unread bytes buffered for one connection before it is closed. Default 64 MiB.</summary>
    public long MaxBufferedBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Most control frames (ping answers, window updates, resets) queued while the socket is blocked. Default 4096.</summary>
    public int MaxPendingControlFrames { get; set; } = 4096;

    /// <summary>Interval of keep-alive pings; <see cref="TimeSpan.Zero"/> disables them. Default 15 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A keep-alive ping unanswered for this long closes the connection. Default 30 s.</summary>
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxStreamWindow, InitialWindow);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxInboundStreams, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxOutboundStreams, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRefusedStreamsInARow, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBufferedBytes, InitialWindow);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingControlFrames, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(PingTimeout, TimeSpan.FromMilliseconds(1));
    }
}

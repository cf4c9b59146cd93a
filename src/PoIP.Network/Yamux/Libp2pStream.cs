using System.IO.Pipelines;
using PoIP.Core.Identity;
using PoIP.Network.Yamux;

namespace PoIP.Network;

/// <summary>
/// One multiplexed (Yamux) stream of a <see cref="Libp2pConnection"/>, after protocol negotiation.
/// Reading and writing are asynchronous only; <see cref="Input"/> and <see cref="Output"/> give
/// System.IO.Pipelines views. Writes wait for the peer's flow-control window (real backpressure);
/// reads return the window to the peer as the data is consumed. <see cref="CompleteWritingAsync"/>
/// half-closes (FIN); <see cref="Reset"/> aborts; disposing closes the write side and resets the
/// stream if the peer has not finished.
/// </summary>
public sealed partial class Libp2pStream : Stream
{
    private readonly YamuxSession _session;
    // Received segments (guarded by _lock); the reader waits on _readSignal, writers on _windowSignal:
    // both are reused for every wait, so steady-state reading and writing allocate nothing.
    private readonly Queue<(byte[] Buffer, int Length)> _incoming = new(8);
    private readonly Internal.AsyncSignal _readSignal = new();
    private readonly Internal.AsyncSignal _windowSignal = new();
    private readonly Lock _lock = new();
    private readonly int _maxWindow;
    private byte[]? _current;
    private Memory<byte> _pendingRead; // the waiting reader's buffer (guarded by _lock)
    private int _pendingFilled;
    private int _currentOffset;
    private int _currentLength;
    private long _receiveCredit;
    private int _unacknowledged;
    private long _sendWindow = YamuxOptions.InitialWindow;
    private bool _localFin;
    private bool _remoteFin;
    private bool _reset;
    private bool _readAbandoned;
    private Exception? _failure;
    private PipeReader? _input;
    private PipeWriter? _output;

    internal Libp2pStream(YamuxSession session, uint id, bool outbound, int maxWindow)
    {
        _session = session;
        Id = id;
        IsOutbound = outbound;
        _maxWindow = maxWindow;
        _receiveCredit = maxWindow; // the initial 256 KiB plus the delta sent with SYN/ACK
    }

    /// <summary>The Yamux stream id.</summary>
    public uint Id { get; }

    /// <summary>True when this side opened the stream.</summary>
    public bool IsOutbound { get; }

    /// <summary>The negotiated protocol id.</summary>
    public string Protocol { get; internal set; } = string.Empty;

    /// <summary>The peer at the other end.</summary>
    public PeerId RemotePeer { get; internal set; }

    /// <summary>The connection this stream belongs to (null only for streams of a bare muxer).</summary>
    public Libp2pConnection? Connection { get; internal set; }

    /// <summary>A pipe reader over this stream (created on first use; leaves the stream open).</summary>
    public PipeReader Input => _input ??= PipeReader.Create(this, new StreamPipeReaderOptions(bufferSize: 65536, minimumReadSize: 16384, leaveOpen: true));

    /// <summary>A pipe writer over this stream (created on first use; leaves the stream open).</summary>
    public PipeWriter Output => _output ??= PipeWriter.Create(this, new StreamPipeWriterOptions(minimumBufferSize: 65536, leaveOpen: true));

    internal bool AcceptsData
    {
        get
        {
            lock (_lock)
            {
                return !_remoteFin && !_reset && !_readAbandoned;
            }
        }
    }

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
}

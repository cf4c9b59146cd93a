using PoIP.Core.Identity;
using PoIP.Core.Protocol;
using PoIP.Network.InferProtocol;

namespace PoIP.Hosting.Client;

/// <summary>
/// One attempt of a request on one node. Its pieces are held back until it wins the race to the first
/// token (<see cref="Deliver"/>), so a hedge that loses never shows text to the caller.
/// </summary>
internal sealed class Attempt(PeerId node, CancellationTokenSource cancellation, long started) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _firstToken = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private List<string>? _held = [];
    private Action<string>? _sink;

    private int _lost;

    /// <summary>The node asked.</summary>
    public PeerId Node { get; } = node;

    /// <summary>When it started (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long Started { get; } = started;

    /// <summary>Cancels the attempt (the caller's token is linked in).</summary>
    public CancellationToken Token => cancellation.Token;

    /// <summary>Completes with the first token.</summary>
    public Task FirstToken => _firstToken.Task;

    public bool HasFirstToken => _firstToken.Task.IsCompleted;

    /// <summary>The signed request and the node's checked outcome; faults when the attempt failed.</summary>
    public Task<(SignedMessage<InferenceRequest> Request, InferenceOutcome Outcome)> Completion { get; set; } = null!;

    public void OnPiece(string piece)
    {
        lock (_lock)
        {
            if (_held is null)
            {
                _sink?.Invoke(piece);
            }
            else
            {
                _held.Add(piece);
            }
        }

        _firstToken.TrySetResult();
    }

    /// <summary>The attempt won: pieces held so far and all later ones go to <paramref name="sink"/>.</summary>
    public void Deliver(Action<string>? sink)
    {
        lock (_lock)
        {
            _sink = sink;
            foreach (string piece in _held ?? [])
            {
                sink?.Invoke(piece);
            }

            _held = null;
        }
    }

    /// <summary>Marks it as having lost the race and cancels it; true only the first time.</summary>
    public bool Lose()
    {
        if (Interlocked.Exchange(ref _lost, 1) != 0)
        {
            return false;
        }

        Cancel();
        return true;
    }

    public void Dispose() => cancellation.Dispose();

    public void Cancel()
    {
        try
        {
            cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // finished meanwhile
        }
    }
}

using System.Text;

namespace PoIP.Gateway.Streaming;

/// <summary>
/// Cuts generated text at the first stop string without ever releasing part of one: text that
/// could still grow into a stop string is held back until the next piece decides it. Once a stop
/// string is seen, it and everything after it are dropped.
/// </summary>
internal sealed class StopFilter(IReadOnlyList<string> stops)
{
    private readonly StringBuilder _pending = new();

    /// <summary>True once a stop string was seen.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds a piece; returns the text now safe to release (possibly empty).</summary>
    public string Push(string piece)
    {
        ArgumentNullException.ThrowIfNull(piece);
        if (Stopped)
        {
            return string.Empty;
        }

        if (stops.Count == 0)
        {
            return piece;
        }

        _pending.Append(piece);
        string text = _pending.ToString();
        int cut = -1;
        foreach (string stop in stops)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut))
            {
                cut = at;
            }
        }

        if (cut >= 0)
        {
            Stopped = true;
            _pending.Clear();
            return text[..cut];
        }

        int hold = HeldSuffixLength(text);
        _pending.Clear().Append(text, text.Length - hold, hold);
        return text[..^hold];
    }

    /// <summary>The text still held back, released when generation ended without a stop string.</summary>
    public string Flush()
    {
        string rest = _pending.ToString();
        _pending.Clear();
        return Stopped ? string.Empty : rest;
    }

    /// <summary>Length of the longest suffix of <paramref name="text"/> that is a proper prefix of some stop string.</summary>
    private int HeldSuffixLength(string text)
    {
        int longest = 0;
        foreach (string stop in stops)
        {
            for (int length = Math.Min(stop.Length - 1, text.Length); length > longest; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    longest = length;
                    break;
                }
            }
        }

        return longest;
    }
}

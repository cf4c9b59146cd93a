using PoIP.Core.Errors;
using PoIP.Core.Ledger;
using PoIP.Core.Protocol;
using PoIP.Core.Signing;
using PoIP.Network.Kademlia;

namespace PoIP.Network.Transactions;

/// <summary>
/// The <c>poip</c> namespace of the DHT: transaction record sets under <c>/poip/tx/&lt;request id&gt;</c>
/// (<see cref="TransactionRecordSet"/>: every envelope verified, every signer a party, canonical form, not
/// expired or future-dated; merging is a deduplicated union, so a put only adds and evidence is never
/// erased) and capability records under <c>/poip/cap/&lt;peer id&gt;</c> (signed by that peer, unexpired,
/// the highest sequence wins). Anything else under <c>/poip/</c> is refused.
/// </summary>
public sealed class PoIPRecordNamespace : IDhtRecordNamespace
{
    private readonly PoIPRecordNamespaceOptions _options;

    /// <summary>Creates the namespace.</summary>
    public PoIPRecordNamespace(PoIPRecordNamespaceOptions? options = null) => _options = options ?? new PoIPRecordNamespaceOptions();

    /// <inheritdoc />
    public string Name => PoIPRecordKeys.Namespace;

    /// <inheritdoc />
    public DhtRecordVerdict Validate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, DateTimeOffset now)
    {
        try
        {
            if (PoIPRecordKeys.TryParseTransaction(key, out var request))
            {
                if (value.Length > TransactionRecordSet.MaxEncodedLength)
                {
                    return DhtRecordVerdict.Invalid($"transaction set of {value.Length} bytes exceeds {TransactionRecordSet.MaxEncodedLength}.");
                }

                var set = TransactionRecordSet.Decode(value);
                string? problem = set.RequestId != request ? "the records concern another request than the key names." : set.CheckTimes(now, _options.Timing);
                return problem is null ? DhtRecordVerdict.Valid : DhtRecordVerdict.Invalid(problem);
            }

            if (PoIPRecordKeys.TryParseCapability(key, out var node))
            {
                var capability = OpenCapability(value);
                string? problem =
                    capability.Signer != node || capability.Message.NodeId != node ? "the capability record is not signed by the node the key names."
                    : capability.Message.IssuedAt > now + _options.Timing.MaxClockSkew ? "the capability record is dated in the future."
                    : capability.Message.ExpiresAt <= now ? "the capability record has expired."
                    : capability.Message.ExpiresAt - capability.Message.IssuedAt > _options.MaxCapabilityLifetime ? "the capability record claims too long a validity."
                    : null;
                return problem is null ? DhtRecordVerdict.Valid : DhtRecordVerdict.Invalid(problem);
            }

            return DhtRecordVerdict.Invalid("not a PoIP record key (/poip/tx/<request id hex> or /poip/cap/<peer id>).");
        }
        catch (PoIPException ex)
        {
            return DhtRecordVerdict.Invalid(ex.Message);
        }
    }

    /// <inheritdoc />
    public int SelectBest(ReadOnlySpan<byte> key, IReadOnlyList<ReadOnlyMemory<byte>> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            throw new ArgumentException("No values to choose from.", nameof(values));
        }

        bool transaction = PoIPRecordKeys.TryParseTransaction(key, out _);
        int best = 0;
        (long, long) bestScore = (long.MinValue, long.MinValue);
        for (int i = 0; i < values.Count; i++)
        {
            var score = transaction ? TransactionScore(values[i]) : CapabilityScore(values[i]);
            if (score.CompareTo(bestScore) > 0)
            {
                best = i;
                bestScore = score;
            }
        }

        return best;
    }

    /// <inheritdoc />
    public byte[]? Merge(ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored, ReadOnlySpan<byte> incoming)
    {
        if (!PoIPRecordKeys.TryParseTransaction(key, out var request))
        {
            return null;
        }

        try
        {
            var a = TransactionRecordSet.Decode(stored);
            var b = TransactionRecordSet.Decode(incoming);
            return a.RequestId == request && b.RequestId == request ? a.Merge(b).Encode() : null;
        }
        catch (PoIPException)
        {
            return null;
        }
    }

    private static SignedMessage<CapabilityRecord> OpenCapability(ReadOnlySpan<byte> value)
    {
        if (value.Length > EnvelopeType.CapabilityRecord.MaxEncodedLength)
        {
            throw new PoIPDecodeException(nameof(CapabilityRecord), DecodeErrorKind.Oversize, $"{value.Length} bytes exceeds {EnvelopeType.CapabilityRecord.MaxEncodedLength}.");
        }

        return SignedMessage.Open<CapabilityRecord>(value.ToArray());
    }

    /// <summary>More records first, then more equivocation evidence.</summary>
    private static (long, long) TransactionScore(ReadOnlyMemory<byte> value)
    {
        try
        {
            var set = TransactionRecordSet.Decode(value.Span);
            return (set.Records.Count, set.FindEquivocations().Count);
        }
        catch (PoIPException)
        {
            return (long.MinValue + 1, 0);
        }
    }

    /// <summary>Highest sequence first, then the latest expiry.</summary>
    private static (long, long) CapabilityScore(ReadOnlyMemory<byte> value)
    {
        try
        {
            var record = OpenCapability(value.Span).Message;
            return ((long)Math.Min(record.Sequence, long.MaxValue), record.ExpiresAt.ToUnixTimeMilliseconds());
        }
        catch (PoIPException)
        {
            return (long.MinValue + 1, 0);
        }
    }
}

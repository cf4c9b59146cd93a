namespace PoIP.Core.Protocol;

/// <summary>
/// How tokens are chosen from logits, part of the Inference Engine Standard: PoIP's managed sampler
/// applies these in a fixed order with a PRNG keyed by (seed, position), so anyone holding the
/// logits can recompute every choice.
/// </summary>
public sealed record SamplingParameters
{
    /// <summary>Largest number of stop sequences.</summary>
    public const int MaxStopSequences = 8;

    /// <summary>Longest stop sequence, in UTF-16 characters.</summary>
    public const int MaxStopSequenceLength = 64;

    /// <summary>Greedy decoding: always the most likely token.</summary>
    public static SamplingParameters Greedy { get; } = new() { Temperature = 0f };

    /// <summary>Softmax temperature; 0 means greedy. Range [0, 10].</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep the K most likely tokens; 0 disables. Range [0, 100000].</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Nucleus: keep the smallest set with cumulative probability ≥ P; 1 disables. Range (0, 1].</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Drop tokens whose probability is below MinP × the best; 0 disables. Range [0, 1].</summary>
    public float MinP { get; init; } = 0.05f;

    /// <summary>Divide positive logits (multiply negative ones) of recent tokens; 1 disables. Range [1, 10].</summary>
    public float RepetitionPenalty { get; init; } = 1.0f;

    /// <summary>How many recent tokens the repetition penalty looks at. Range [0, 4096].</summary>
    public int RepetitionWindow { get; init; } = 64;

    /// <summary>Generation stops when the output text ends with one of these (at most 8, 64 characters each).</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];

    /// <summary>True when sampling is greedy.</summary>
    public bool IsGreedy => Temperature == 0f;

    /// <summary>Returns the first problem with these parameters, or null when they are valid.</summary>
    public string? Validate()
    {
        if (!float.IsFinite(Temperature) || Temperature is < 0f or > 10f)
        {
            return $"temperature must be in [0, 10], got {Temperature}.";
        }

        if (TopK is < 0 or > 100_000)
        {
            return $"top_k must be in [0, 100000], got {TopK}.";
        }

        if (!float.IsFinite(TopP) || TopP is <= 0f or > 1f)
        {
            return $"top_p must be in (0, 1], got {TopP}.";
        }

        if (!float.IsFinite(MinP) || MinP is < 0f or > 1f)
        {
            return $"min_p must be in [0, 1], got {MinP}.";
        }

        if (!float.IsFinite(RepetitionPenalty) || RepetitionPenalty is < 1f or > 10f)
        {
            return $"repetition_penalty must be in [1, 10], got {RepetitionPenalty}.";
        }

        if (RepetitionWindow is < 0 or > 4096)
        {
            return $"repetition_window must be in [0, 4096], got {RepetitionWindow}.";
        }

        if (StopSequences.Count > MaxStopSequences)
        {
            return $"at most {MaxStopSequences} stop sequences, got {StopSequences.Count}.";
        }

        foreach (string stop in StopSequences)
        {
            if (string.IsNullOrEmpty(stop) || stop.Length > MaxStopSequenceLength)
            {
                return $"stop sequences must be 1 to {MaxStopSequenceLength} characters.";
            }
        }

        return null;
    }

    /// <summary>Throws when the parameters are invalid.</summary>
    /// <exception cref="ArgumentException">A parameter is out of range.</exception>
    public void EnsureValid()
    {
        string? problem = Validate();
        if (problem is not null)
        {
            throw new ArgumentException("Invalid sampling parameters: " + problem);
        }
    }

    /// <inheritdoc />
    public bool Equals(SamplingParameters? other) =>
        other is not null && Temperature.Equals(other.Temperature) && TopK == other.TopK && TopP.Equals(other.TopP) && MinP.Equals(other.MinP)
        && RepetitionPenalty.Equals(other.RepetitionPenalty) && RepetitionWindow == other.RepetitionWindow && StopSequences.SequenceEqual(other.StopSequences);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Temperature, TopK, TopP, MinP, RepetitionPenalty, RepetitionWindow, StopSequences.Count);

    internal Wire.SamplingProto ToWire()
    {
        var proto = new Wire.SamplingProto
        {
            Temperature = Temperature,
            TopK = (uint)TopK,
            TopP = TopP,
            MinP = MinP,
            RepetitionPenalty = RepetitionPenalty,
            RepetitionWindow = (uint)RepetitionWindow,
        };
        proto.Stop.AddRange(StopSequences);
        return proto;
    }

    internal static SamplingParameters FromWire(Wire.SamplingProto? proto, string typeName)
    {
        if (proto is null)
        {
            throw WireFields.Invalid(typeName, "sampling parameters are missing.");
        }

        if (proto.TopK > 100_000 || proto.RepetitionWindow > 4096 || proto.Stop.Count > MaxStopSequences)
        {
            throw WireFields.Invalid(typeName, "sampling parameters out of range.");
        }

        var parameters = new SamplingParameters
        {
            Temperature = proto.Temperature,
            TopK = (int)proto.TopK,
            TopP = proto.TopP,
            MinP = proto.MinP,
            RepetitionPenalty = proto.RepetitionPenalty,
            RepetitionWindow = (int)proto.RepetitionWindow,
            StopSequences = [.. proto.Stop],
        };
        string? problem = parameters.Validate();
        return problem is null ? parameters : throw WireFields.Invalid(typeName, problem);
    }
}

namespace PoIP.Core.Protocol;

/// <summary>Timings a node reports in its receipt (informational; not verified).</summary>
/// <param name="Queue">Time waiting for the engine.</param>
/// <param name="Prefill">Time processing the prompt.</param>
/// <param name="Decode">Time generating output tokens.</param>
/// <param name="PromptTokens">Prompt length in tokens.</param>
/// <param name="OutputTokens">Output length in tokens.</param>
public sealed record InferenceTimings(TimeSpan Queue, TimeSpan Prefill, TimeSpan Decode, int PromptTokens, int OutputTokens)
{
    internal Wire.TimingsProto ToWire() => new()
    {
        QueueUs = (ulong)(Queue.Ticks / 10),
        PrefillUs = (ulong)(Prefill.Ticks / 10),
        DecodeUs = (ulong)(Decode.Ticks / 10),
        PromptTokens = (uint)PromptTokens,
        OutputTokens = (uint)OutputTokens,
    };

    internal static InferenceTimings FromWire(Wire.TimingsProto? proto)
    {
        const ulong maxUs = (ulong)(long.MaxValue / 10);
        if (proto is null)
        {
            return new InferenceTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 0, 0);
        }

        static TimeSpan Us(ulong us) => TimeSpan.FromTicks((long)Math.Min(us, maxUs) * 10);
        return new InferenceTimings(Us(proto.QueueUs), Us(proto.PrefillUs), Us(proto.DecodeUs), (int)Math.Min(proto.PromptTokens, int.MaxValue), (int)Math.Min(proto.OutputTokens, int.MaxValue));
    }
}

namespace PoIP.Core.Engine;

/// <summary>
/// Everything about an engine that changes the numbers it computes (Inference Engine Standard):
/// two engines with equal identities and equal models must produce comparable activations.
/// </summary>
/// <param name="Engine">Engine family, e.g. <c>llama.cpp</c> or <c>managed</c>.</param>
/// <param name="Build">Build identity, e.g. the llama.cpp commit.</param>
/// <param name="Backend">Compute backend: <c>cpu</c>, <c>cuda</c>...</param>
/// <param name="CpuVariant">SIMD variant of the CPU backend: <c>avx512</c>, <c>avx2</c>, <c>avx</c>, <c>noavx</c>, or empty.</param>
/// <param name="FlashAttention">Flash attention on or off (never auto).</param>
/// <param name="KvCacheType">KV-cache element type: <c>f16</c>, <c>f32</c>, <c>q8_0</c>.</param>
/// <param name="Ubatch">Physical micro-batch size used for prefill.</param>
public sealed record EngineIdentity(string Engine, string Build, string Backend, string CpuVariant, bool FlashAttention, string KvCacheType, int Ubatch)
{
    /// <summary>A one-line canonical form, e.g. <c>llama.cpp@c0c7e147/cpu-avx512/fa=off/kv=f16/ubatch=512</c>.</summary>
    public override string ToString() =>
        $"{Engine}@{Build}/{Backend}{(CpuVariant.Length > 0 ? "-" + CpuVariant : string.Empty)}/fa={(FlashAttention ? "on" : "off")}/kv={KvCacheType}/ubatch={Ubatch}";

    internal Protocol.Wire.EngineIdentityProto ToWire() => new()
    {
        Engine = Engine,
        Build = Build,
        Backend = Backend,
        CpuVariant = CpuVariant,
        FlashAttention = FlashAttention,
        KvCacheType = KvCacheType,
        Ubatch = (uint)Ubatch,
    };

    internal static EngineIdentity FromWire(Protocol.Wire.EngineIdentityProto? proto, string typeName)
    {
        if (proto is null)
        {
            throw Protocol.WireFields.Invalid(typeName, "engine identity is missing.");
        }

        foreach (string field in new[] { proto.Engine, proto.Build, proto.Backend, proto.CpuVariant, proto.KvCacheType })
        {
            Protocol.WireFields.CheckLength(field.Length, 128, typeName, "engine identity field");
        }

        if (proto.Ubatch > 1 << 20)
        {
            throw Protocol.WireFields.Invalid(typeName, "ubatch out of range.");
        }

        return new EngineIdentity(proto.Engine, proto.Build, proto.Backend, proto.CpuVariant, proto.FlashAttention, proto.KvCacheType, (int)proto.Ubatch);
    }
}

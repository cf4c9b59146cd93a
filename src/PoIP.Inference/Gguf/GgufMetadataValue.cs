using System.Globalization;

namespace PoIP.Inference.Gguf;

/// <summary>
/// One GGUF metadata value. <see cref="Value"/> holds the CLR value: <see cref="byte"/>,
/// <see cref="sbyte"/>, <see cref="ushort"/>, <see cref="short"/>, <see cref="uint"/>,
/// <see cref="int"/>, <see cref="float"/>, <see cref="bool"/>, <see cref="string"/>,
/// <see cref="ulong"/>, <see cref="long"/>, <see cref="double"/>, or for arrays a typed CLR array
/// (<c>string[]</c>, <c>float[]</c>, <c>int[]</c>...; nested arrays are <c>GgufMetadataValue[]</c>).
/// </summary>
/// <param name="Type">The GGUF type tag.</param>
/// <param name="Value">The value.</param>
/// <param name="ElementType">For arrays, the element type; otherwise equal to <paramref name="Type"/>.</param>
public sealed record GgufMetadataValue(GgufValueType Type, object Value, GgufValueType ElementType)
{
    /// <summary>Creates a scalar value.</summary>
    public GgufMetadataValue(GgufValueType type, object value)
        : this(type, value, type)
    {
    }

    /// <summary>True for an integer type (scalar).</summary>
    public bool IsInteger => Type is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16 or GgufValueType.Int16
        or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;

    /// <summary>Number of elements of an array, or 1.</summary>
    public long Count => Value is Array array ? array.LongLength : 1;

    /// <summary>The value as a 64-bit integer.</summary>
    /// <exception cref="InvalidCastException">Not an integer, or a UInt64 above <see cref="long.MaxValue"/>.</exception>
    public long AsInt64() => Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        ulong v when v <= long.MaxValue => (long)v,
        long v => v,
        _ => throw new InvalidCastException($"GGUF value of type {Type} is not an integer in range."),
    };

    /// <summary>The value as a double (integers and floats).</summary>
    /// <exception cref="InvalidCastException">Not a number.</exception>
    public double AsDouble() => Value switch
    {
        float v => v,
        double v => v,
        _ when IsInteger => AsInt64(),
        _ => throw new InvalidCastException($"GGUF value of type {Type} is not a number."),
    };

    /// <summary>A short human-readable rendering (arrays are summarised).</summary>
    public override string ToString() => Value switch
    {
        string s => s,
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        Array a => $"[{ElementType} x {a.LongLength}]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Value.ToString() ?? string.Empty,
    };
}

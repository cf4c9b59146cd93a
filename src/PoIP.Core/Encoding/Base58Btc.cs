using System.Buffers;

namespace PoIP.Core.Encoding;

/// <summary>Base58 with the Bitcoin alphabet (multibase <c>z</c>), as used for libp2p peer ids.</summary>
public static class Base58Btc
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    private static readonly sbyte[] Digits = BuildDigits();

    /// <summary>Encodes bytes as base58btc text.</summary>
    public static string Encode(ReadOnlySpan<byte> data)
    {
        int zeros = 0;
        while (zeros < data.Length && data[zeros] == 0)
        {
            zeros++;
        }

        // log(256)/log(58) ~ 1.366: upper bound of output digits.
        int size = ((data.Length - zeros) * 138 / 100) + 1;
        byte[] rented = ArrayPool<byte>.Shared.Rent(size);
        Span<byte> digits = rented.AsSpan(0, size);
        digits.Clear();
        int length = 0;
        for (int i = zeros; i < data.Length; i++)
        {
            int carry = data[i];
            int j = 0;
            for (int k = size - 1; (carry != 0 || j < length) && k >= 0; k--, j++)
            {
                carry += 256 * digits[k];
                digits[k] = (byte)(carry % 58);
                carry /= 58;
            }

            length = j;
        }

        int start = size - length;
        var result = new char[zeros + length];
        result.AsSpan(0, zeros).Fill('1');
        for (int i = 0; i < length; i++)
        {
            result[zeros + i] = Alphabet[digits[start + i]];
        }

        ArrayPool<byte>.Shared.Return(rented);
        return new string(result);
    }

    /// <summary>Decodes base58btc text; returns false for characters outside the alphabet or text over <paramref name="maxLength"/> characters.</summary>
    public static bool TryDecode(ReadOnlySpan<char> text, out byte[] data, int maxLength = 256)
    {
        data = [];
        if (text.Length > maxLength)
        {
            return false;
        }

        int zeros = 0;
        while (zeros < text.Length && text[zeros] == '1')
        {
            zeros++;
        }

        int size = ((text.Length - zeros) * 733 / 1000) + 1; // log(58)/log(256)
        var bytes = new byte[size];
        int length = 0;
        for (int i = zeros; i < text.Length; i++)
        {
            char c = text[i];
            if (c >= 128 || Digits[c] < 0)
            {
                return false;
            }

            int carry = Digits[c];
            int j = 0;
            for (int k = size - 1; (carry != 0 || j < length) && k >= 0; k--, j++)
            {
                carry += 58 * bytes[k];
                bytes[k] = (byte)(carry & 0xFF);
                carry >>= 8;
            }

            length = j;
        }

        data = new byte[zeros + length];
        bytes.AsSpan(size - length).CopyTo(data.AsSpan(zeros));
        return true;
    }

    private static sbyte[] BuildDigits()
    {
        var digits = new sbyte[128];
        Array.Fill(digits, (sbyte)-1);
        for (int i = 0; i < Alphabet.Length; i++)
        {
            digits[Alphabet[i]] = (sbyte)i;
        }

        return digits;
    }
}

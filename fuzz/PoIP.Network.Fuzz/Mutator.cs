namespace PoIP.Network.Fuzz;

/// <summary>A small structure-unaware mutator (bit flips, interesting bytes, inserts, deletes, splices, truncation).</summary>
internal sealed class Mutator(int seed, int maxLength = 4096)
{
    private static readonly byte[] Interesting = [0x00, 0x01, 0x02, 0x0a, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x20, 0x2f];
    private readonly Random _random = new(seed);

    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> corpus)
    {
        var data = new List<byte>(input);
        int rounds = 1 + _random.Next(4);
        for (int r = 0; r < rounds; r++)
        {
            switch (_random.Next(9))
            {
                case 0 when data.Count > 0:
                    int i = _random.Next(data.Count);
                    data[i] ^= (byte)(1 << _random.Next(8));
                    break;
                case 1 when data.Count > 0:
                    data[_random.Next(data.Count)] = Interesting[_random.Next(Interesting.Length)];
                    break;
                case 2:
                    data.Insert(_random.Next(data.Count + 1), (byte)_random.Next(256));
                    break;
                case 3 when data.Count > 0:
                    data.RemoveAt(_random.Next(data.Count));
                    break;
                case 4 when data.Count > 1:
                    int cut = _random.Next(data.Count);
                    data.RemoveRange(cut, data.Count - cut);
                    break;
                case 5:
                    var other = corpus[_random.Next(corpus.Count)];
                    if (other.Length > 0)
                    {
                        int start = _random.Next(other.Length);
                        int len = _random.Next(other.Length - start) + 1;
                        data.InsertRange(_random.Next(data.Count + 1), other.Skip(start).Take(len));
                    }

                    break;
                case 6 when data.Count > 1:
                    int from = _random.Next(data.Count);
                    int count = Math.Min(_random.Next(1, 16), data.Count - from);
                    data.InsertRange(_random.Next(data.Count + 1), data.GetRange(from, count));
                    break;
                case 7:
                    var bytes = new byte[_random.Next(1, 8)];
                    _random.NextBytes(bytes);
                    data.InsertRange(_random.Next(data.Count + 1), bytes);
                    break;
                default:
                    if (data.Count > 0)
                    {
                        data[_random.Next(data.Count)] = (byte)_random.Next(256);
                    }

                    break;
            }
        }

        if (data.Count > maxLength)
        {
            data.RemoveRange(maxLength, data.Count - maxLength);
        }

        return [.. data];
    }

    public byte[] RandomInput()
    {
        var bytes = new byte[_random.Next(0, 256)];
        _random.NextBytes(bytes);
        return bytes;
    }
}

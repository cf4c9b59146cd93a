namespace PoIP.Inference.Commitments;

/// <summary>
/// Selects the k entries of largest magnitude (ties to the lower index, NaN last) with a min-heap in a
/// caller-provided buffer: O(n log k), no allocation. The selected indices come out in heap order.
/// </summary>
internal static class TopKSelector
{
    public static void Select(ReadOnlySpan<float> values, Span<int> selected)
    {
        int k = selected.Length;
        if (k > values.Length)
        {
            throw new ArgumentException("k exceeds the number of values.", nameof(selected));
        }

        for (int i = 0; i < k; i++)
        {
            selected[i] = i;
            SiftUp(values, selected, i);
        }

        for (int i = k; i < values.Length; i++)
        {
            if (k > 0 && IsBetter(values, i, selected[0]))
            {
                selected[0] = i;
                SiftDown(values, selected, 0, k);
            }
        }
    }

    private static float Magnitude(float value) => float.IsNaN(value) ? -1f : Math.Abs(value);

    // a ranks above b: larger magnitude, or equal magnitude and lower index.
    private static bool IsBetter(ReadOnlySpan<float> values, int a, int b)
    {
        float ma = Magnitude(values[a]), mb = Magnitude(values[b]);
        return ma > mb || (ma == mb && a < b);
    }

    private static void SiftUp(ReadOnlySpan<float> values, Span<int> heap, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!IsBetter(values, heap[parent], heap[i]))
            {
                break;
            }

            (heap[parent], heap[i]) = (heap[i], heap[parent]);
            i = parent;
        }
    }

    private static void SiftDown(ReadOnlySpan<float> values, Span<int> heap, int i, int count)
    {
        while (true)
        {
            int left = (2 * i) + 1, worst = i;
            if (left < count && IsBetter(values, heap[worst], heap[left]))
            {
                worst = left;
            }

            if (left + 1 < count && IsBetter(values, heap[worst], heap[left + 1]))
            {
                worst = left + 1;
            }

            if (worst == i)
            {
                return;
            }

            (heap[worst], heap[i]) = (heap[i], heap[worst]);
            i = worst;
        }
    }
}

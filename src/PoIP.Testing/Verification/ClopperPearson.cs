namespace PoIP.Testing.Verification;

/// <summary>
/// The exact (Clopper–Pearson) one-sided upper confidence bound on a binomial rate: after
/// <c>failures</c> events in <c>trials</c> independent trials, the largest rate p for which seeing at
/// most that many events still has probability ≥ 1 − confidence, i.e. the p solving
/// P(X ≤ failures; trials, p) = 1 − confidence. With no event it is 1 − (1 − confidence)^(1/trials)
/// (≈ 3/trials at 95 %). Found by bisection on the binomial distribution function, summed in log space.
/// </summary>
public static class ClopperPearson
{
    /// <summary>The one-sided upper bound at <paramref name="confidence"/> (default 95 %).</summary>
    /// <param name="failures">Events seen (false positives), 0 ≤ failures ≤ trials.</param>
    /// <param name="trials">Trials (honest receipts), at least 0; with none the bound is 1.</param>
    /// <param name="confidence">Confidence level, in (0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A count or the confidence is out of range.</exception>
    public static double UpperBound(long failures, long trials, double confidence = 0.95)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(trials);
        ArgumentOutOfRangeException.ThrowIfNegative(failures);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(failures, trials);
        if (!(confidence > 0 && confidence < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "The confidence must lie strictly between 0 and 1.");
        }

        double alpha = 1 - confidence;
        if (failures == trials)
        {
            return 1.0;
        }

        if (failures == 0)
        {
            // P(X = 0) = (1 - p)^n = alpha; -expm1(log(alpha) / n) keeps the precision for large n.
            return -double.ExpM1(Math.Log(alpha) / trials);
        }

        // The distribution function falls monotonically in p: bisect for CDF(p) = alpha.
        double low = (double)failures / trials, high = 1.0;
        for (int i = 0; i < 200 && high - low > 1e-15 * Math.Max(high, 1e-300); i++)
        {
            double mid = 0.5 * (low + high);
            if (BinomialCdf(failures, trials, mid) > alpha)
            {
                low = mid;
            }
            else
            {
                high = mid;
            }
        }

        return high;
    }

    /// <summary>P(X ≤ <paramref name="k"/>) for X ~ Binomial(<paramref name="n"/>, <paramref name="p"/>), summed in log space (0 ≤ k ≤ n).</summary>
    /// <exception cref="ArgumentOutOfRangeException">k or n out of range.</exception>
    public static double BinomialCdf(long k, long n, double p)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, n);
        if (p <= 0)
        {
            return 1.0;
        }

        if (p >= 1)
        {
            return k >= n ? 1.0 : 0.0;
        }

        double logP = Math.Log(p), logQ = double.LogP1(-p);
        double logChoose = 0, max = double.NegativeInfinity;
        var terms = new double[k + 1];
        for (long i = 0; i <= k; i++)
        {
            if (i > 0)
            {
                logChoose += Math.Log(n - i + 1) - Math.Log(i);
            }

            terms[i] = logChoose + (i * logP) + ((n - i) * logQ);
            max = Math.Max(max, terms[i]);
        }

        double sum = 0;
        foreach (double term in terms)
        {
            sum += Math.Exp(term - max);
        }

        return Math.Min(1.0, Math.Exp(max + Math.Log(sum)));
    }
}

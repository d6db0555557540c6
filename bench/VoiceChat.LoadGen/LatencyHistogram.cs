using System.Numerics;

namespace VoiceChat.LoadGen;

/// <summary>
/// A fixed-bucket latency histogram in microseconds, HdrHistogram-like: exact below 128 µs, then
/// 64 sub-buckets per power of two (under 1.6 % error). Recording is one
/// <see cref="Interlocked.Increment(ref long)"/>: no allocation, safe from any thread.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int LinearLimit = 128;
    private const int SubBuckets = 64;
    private const int MaxExponent = 40; // 2^40 µs is about 12 days: everything fits.
    private const int BucketCount = LinearLimit + ((MaxExponent - 6) * SubBuckets);

    private readonly long[] _counts = new long[BucketCount];
    private long _count;
    private long _sum;
    private long _max;

    public long Count => Volatile.Read(ref _count);

    public long Max => Volatile.Read(ref _max);

    public double MeanMicroseconds => Count == 0 ? 0 : (double)Volatile.Read(ref _sum) / Count;

    public void Record(long microseconds)
    {
        if (microseconds < 0)
        {
            microseconds = 0;
        }

        Interlocked.Increment(ref _counts[IndexOf(microseconds)]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sum, microseconds);
        var max = Volatile.Read(ref _max);
        while (microseconds > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, microseconds, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    public void Reset()
    {
        Array.Clear(_counts);
        Volatile.Write(ref _count, 0);
        Volatile.Write(ref _sum, 0);
        Volatile.Write(ref _max, 0);
    }

    /// <summary>The value at quantile <paramref name="q"/> (0..1), in microseconds (the bucket's midpoint, capped at the max).</summary>
    public long ValueAt(double q)
    {
        var total = Count;
        if (total == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(q * total);
        rank = Math.Clamp(rank, 1, total);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return Math.Min(MidpointOf(i), Max);
            }
        }

        return Max;
    }

    internal static int IndexOf(long value)
    {
        if (value < LinearLimit)
        {
            return (int)value;
        }

        var msb = 63 - BitOperations.LeadingZeroCount((ulong)value); // >= 7
        if (msb > MaxExponent)
        {
            return BucketCount - 1;
        }

        var shift = msb - 6;
        var sub = (int)(value >> shift) - SubBuckets; // 0..63
        return LinearLimit + ((msb - 7) * SubBuckets) + sub;
    }

    internal static long LowerBoundOf(int index)
    {
        if (index < LinearLimit)
        {
            return index;
        }

        var offset = index - LinearLimit;
        var msb = (offset / SubBuckets) + 7;
        var sub = offset % SubBuckets;
        return (long)(sub + SubBuckets) << (msb - 6);
    }

    private static long MidpointOf(int index)
    {
        if (index < LinearLimit)
        {
            return index;
        }

        var low = LowerBoundOf(index);
        var width = 1L << (((index - LinearLimit) / SubBuckets) + 1);
        return low + (width / 2);
    }
}

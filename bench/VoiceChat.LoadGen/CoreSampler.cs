using System.Globalization;

namespace VoiceChat.LoadGen;

/// <summary>One core's time counters from <c>/proc/stat</c>, in clock ticks.</summary>
internal readonly record struct CoreSample(bool Valid, long Busy, long SoftIrq, long Total);

/// <summary>
/// The time of the one core a server process is pinned to: how busy the whole core was (anything else
/// that ran there included) and how much of that was software interrupts. On loopback every
/// <c>send</c> delivers the data to the receiving socket in a software interrupt on the sender's core.
/// </summary>
internal static class CoreSampler
{
    /// <summary>The core <paramref name="pid"/> may run on, when it is pinned to exactly one (<c>Cpus_allowed_list</c>); else -1.</summary>
    public static int PinnedCore(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))
                {
                    return int.TryParse(line.AsSpan("Cpus_allowed_list:".Length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var core) ? core : -1;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return -1;
    }

    public static CoreSample Sample(int core)
    {
        if (core < 0)
        {
            return default;
        }

        try
        {
            var prefix = $"cpu{core.ToString(CultureInfo.InvariantCulture)} ";
            foreach (var line in File.ReadLines("/proc/stat"))
            {
                if (!line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                // user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user).
                var values = line[prefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
                    .Take(8).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                var total = values.Sum();
                var idle = values[3] + values[4];
                return new CoreSample(true, total - idle, values[6], total);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
        }

        return default;
    }
}

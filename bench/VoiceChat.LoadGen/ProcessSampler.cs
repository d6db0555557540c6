using System.Globalization;

namespace VoiceChat.LoadGen;

/// <summary>CPU time and resident memory of one process at one moment, read from procfs.</summary>
internal readonly record struct ProcessSample(bool Valid, double CpuSeconds, long RssBytes, long PeakRssBytes, int Threads, long Timestamp);

/// <summary>Reads <c>/proc/PID/stat</c> (utime + stime) and <c>/proc/PID/status</c> (VmRSS, VmHWM, Threads).</summary>
internal static class ProcessSampler
{
    // USER_HZ is 100 on every Linux architecture .NET runs on.
    private const double ClockTicksPerSecond = 100;

    public static ProcessSample Sample(int pid)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (pid <= 0)
        {
            return new ProcessSample(false, 0, 0, 0, 0, now);
        }

        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state); utime is field 14, stime field 15.
            var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
            var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
            long rss = 0, hwm = 0;
            var threads = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = ParseKiB(line);
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = ParseKiB(line);
                }
                else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    threads = int.Parse(line.AsSpan(8).Trim(), CultureInfo.InvariantCulture);
                }
            }

            return new ProcessSample(true, (utime + stime) / ClockTicksPerSecond, rss, hwm, threads, now);
        }
        catch (IOException)
        {
            return new ProcessSample(false, 0, 0, 0, 0, now);
        }
        catch (UnauthorizedAccessException)
        {
            return new ProcessSample(false, 0, 0, 0, 0, now);
        }
    }

    private static long ParseKiB(string line)
    {
        var value = line.AsSpan(line.IndexOf(':') + 1).Trim();
        var space = value.IndexOf(' ');
        if (space > 0)
        {
            value = value[..space];
        }

        return long.Parse(value, CultureInfo.InvariantCulture) * 1024;
    }
}

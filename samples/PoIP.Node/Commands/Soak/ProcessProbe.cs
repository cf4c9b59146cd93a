using System.Diagnostics;
using System.Globalization;

namespace PoIP.Node.Commands.Soak;

/// <summary>What the operating system says about a process: resident memory and established TCP connections (Linux <c>/proc</c>).</summary>
internal static class ProcessProbe
{
    /// <summary>VmRSS from <c>/proc/PID/status</c> (the working set where there is no /proc).</summary>
    public static long RssBytes(Process process)
    {
        string path = $"/proc/{process.Id}/status";
        if (File.Exists(path))
        {
            foreach (string line in File.ReadLines(path))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }

        process.Refresh();
        return process.WorkingSet64;
    }

    /// <summary>Established TCP sockets (IPv4 and IPv6) owned by <paramref name="pid"/>, less those to <paramref name="exceptRemotePort"/> (a chain's RPC port); -1 where /proc cannot tell.</summary>
    public static int EstablishedTcp(int pid, int? exceptRemotePort = null)
    {
        string fds = $"/proc/{pid}/fd";
        if (!Directory.Exists(fds))
        {
            return -1;
        }

        var inodes = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (string fd in Directory.EnumerateFileSystemEntries(fds))
            {
                string? target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(target["socket:[".Length..^1]);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return -1; // the process exited while its descriptors were listed
        }

        int established = 0;
        foreach (string table in (string[])["/proc/net/tcp", "/proc/net/tcp6"])
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (string line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && fields[3] == "01" && inodes.Contains(fields[9]) && (exceptRemotePort is not { } port || !fields[2].EndsWith(":" + port.ToString("X4", CultureInfo.InvariantCulture), StringComparison.Ordinal)))
                {
                    established++;
                }
            }
        }

        return established;
    }

    /// <summary>The 1-minute load average (Linux), or null.</summary>
    public static double? LoadAverage()
    {
        const string path = "/proc/loadavg";
        return File.Exists(path) && double.TryParse(File.ReadAllText(path).Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double load) ? load : null;
    }
}
